"""Remote names are deterministic, fit Agora's limits, and are recognised only with our prefix."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from reconciler import naming

_ALLOWED = re.compile(r"[A-Za-z0-9_-]{1,64}")


def test_readable_name_for_a_plain_key() -> None:
    """A plain key keeps its words: ``/`` becomes ``--`` and the generation closes the name."""
    assert naming.remote_name(prefix="rc", key="prod/lobby", generation=3) == "rc-prod--lobby-g3"


def test_parse_gives_back_slug_and_generation() -> None:
    """A name we made parses back to its slug and generation; others' names do not parse."""
    name = naming.remote_name(prefix="rc", key="prod/lobby", generation=12)
    assert naming.parse(name, prefix="rc") == naming.ParsedName(slug="prod--lobby", generation=12)
    assert naming.parse(name, prefix="other") is None
    assert naming.parse("support_agent_001", prefix="rc") is None
    assert naming.parse("rc-prod--lobby-g0", prefix="rc") is None
    assert naming.parse("rc-prod--lobby", prefix="rc") is None


@pytest.mark.parametrize(
    "key",
    [
        "prod/store-assistant-store 001",
        "prod/" + "x" * 200,
        "prod/a--b",
        "prod/ünïcode",
    ],
)
def test_awkward_keys_fall_back_to_a_hashed_slug(key: str) -> None:
    """Keys with spaces, great length, ``--`` or non-ASCII still give a valid, parseable name."""
    name = naming.remote_name(prefix="rcprefix", key=key, generation=999_999)
    assert _ALLOWED.fullmatch(name)
    assert naming.parse(name, prefix="rcprefix") is not None


def test_generation_must_be_positive() -> None:
    """Generation 0 does not exist: the first join is generation 1."""
    with pytest.raises(ValueError, match="at least 1"):
        naming.remote_name(prefix="rc", key="prod/lobby", generation=0)


@given(
    keys=st.lists(
        st.tuples(
            st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True),
            st.text(min_size=1, max_size=80).filter(lambda s: "/" not in s),
        ),
        min_size=2,
        max_size=2,
        unique=True,
    ),
    generation=st.integers(min_value=1, max_value=999_999),
)
def test_names_are_valid_and_distinct_keys_get_distinct_names(
    keys: list[tuple[str, str]], generation: int
) -> None:
    """Any key gives a name of at most 64 bytes of [A-Za-z0-9_-], and two keys never share one."""
    (first, second) = (f"{project}/{name}" for project, name in keys)
    one = naming.remote_name(prefix="rc", key=first, generation=generation)
    two = naming.remote_name(prefix="rc", key=second, generation=generation)
    assert _ALLOWED.fullmatch(one)
    assert _ALLOWED.fullmatch(two)
    assert one != two
    assert naming.parse(one, prefix="rc") == naming.ParsedName(
        slug=naming.slug(first, prefix="rc"), generation=generation
    )


def test_a_name_carries_the_spec_digest_after_its_generation() -> None:
    """The digest closes the name, and it parses back with the slug and generation."""
    name = naming.remote_name(prefix="rc", key="prod/lobby", generation=3, digest="0a1b2c3d")
    assert name == "rc-prod--lobby-g3-0a1b2c3d"
    assert naming.parse(name, prefix="rc") == naming.ParsedName(
        slug="prod--lobby", generation=3, digest="0a1b2c3d"
    )
    with pytest.raises(ValueError, match="hex"):
        naming.remote_name(prefix="rc", key="prod/lobby", generation=3, digest="0A1B2C3D")


def test_the_next_generation_keeps_the_form_and_digest() -> None:
    """A spent name's successor keeps its digest, or its lack of one."""
    digested = naming.remote_name(prefix="rc", key="prod/a", generation=1, digest="0a1b2c3d")
    legacy = naming.remote_name(prefix="rc", key="prod/a", generation=1)
    assert naming.next_generation(digested, prefix="rc", key="prod/a", generation=2) == (
        "rc-prod--a-g2-0a1b2c3d"
    )
    successor = naming.next_generation(legacy, prefix="rc", key="prod/a", generation=2)
    assert successor == "rc-prod--a-g2"


@given(
    key=st.text(min_size=1, max_size=80).map(lambda s: "prod/" + s.replace("/", "")),
    prefix=st.from_regex(r"[a-z][a-z0-9]{0,15}", fullmatch=True),
    generation=st.integers(min_value=1, max_value=999_999),
    digest=st.from_regex(r"[0-9a-f]{8}", fullmatch=True),
)
def test_the_two_name_forms_never_read_as_each_other(
    key: str, prefix: str, generation: int, digest: str
) -> None:
    """A legacy name (its hashed slug ends in hex too) never parses with a digest, and a
    digested one always parses with its own; both fit 64 bytes with the longest prefix."""
    legacy = naming.remote_name(prefix=prefix, key=key, generation=generation)
    digested = naming.remote_name(prefix=prefix, key=key, generation=generation, digest=digest)
    slug = naming.slug(key, prefix=prefix)
    assert _ALLOWED.fullmatch(legacy)
    assert _ALLOWED.fullmatch(digested)
    assert naming.parse(legacy, prefix=prefix) == naming.ParsedName(slug, generation)
    assert naming.parse(digested, prefix=prefix) == naming.ParsedName(slug, generation, digest)
