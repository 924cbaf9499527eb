"""A memo by identity makes once per object, and never mistakes one object for another."""

from __future__ import annotations

import functools

from reconciler.identity_memo import KeptBy


def test_the_same_object_and_tag_are_made_for_once() -> None:
    made: list[str] = []
    memo: KeptBy[int] = KeptBy()
    part = {"llm": {"model": "x"}}

    def make() -> int:
        made.append("made")
        return len(made)

    assert memo.get(part, "llm", make) == memo.get(part, "llm", make) == 1
    assert memo.get(part, "tts", make) == 2
    assert memo.get({"llm": {"model": "x"}}, "llm", make) == 3  # equal, but another object


def test_an_object_is_kept_so_its_id_is_never_another_objects() -> None:
    memo: KeptBy[str] = KeptBy()
    for index in range(100):  # freed at once, were it not kept: CPython would reuse its id
        label = f"made {index}"
        assert memo.get([index], None, functools.partial(str, label)) == label
