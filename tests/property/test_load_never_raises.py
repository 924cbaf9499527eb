"""Fuzzing: whatever bytes the manifest files hold, loading returns diagnostics and never raises.

Four kinds of input: random bytes, random text, random YAML trees shaped like manifests, and the
sample fleet and bad corpus mutated line by line. The default suite runs a few hundred;
``RECONCILER_FUZZ_EXAMPLES`` raises it, and benchmarks/fuzz_manifests.py reuses these strategies
for a 10,000-input run that counts tracebacks instead of stopping at the first.
"""

from __future__ import annotations

import copy
import os
import tempfile
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.manifest import load, report

ROOT = Path(__file__).parents[2]
SAMPLES = [p.read_text() for p in sorted((ROOT / "fleet").glob("*.yaml"))] + [
    p.read_text() for p in sorted((ROOT / "tests" / "manifests" / "bad").rglob("*.yaml"))
]
FLEET_DOCUMENTS = [
    document
    for p in sorted((ROOT / "fleet").glob("*.yaml"))
    for document in yaml.safe_load_all(p.read_text())
]
FRAGMENTS = [
    ": ", "- ", "[", "]", "{", "}", "&a ", "*a", "!!str ", "!!int ", "!tag ", "|", ">", "'", '"',
    "#", "%YAML 1.1\n", "@", "`", "\t", "\n", "---\n", "...\n", "? ", "<<: ", "${env:", "${file:",
    "${env:X}", "}", "\x00", "\ufeff", "é", "\ud7ff", "0x1F", "0755", "1e400", ".inf", ".nan",
    "~", "null", "yes", "no", "on", "off", "2024-01-01", "1001", '"1001"', "-1", "259201",
    "Agent", "AgentSet", "Profile", "Project", "reconciler/v1", "*", "  ", "    ", "\r\n",
]  # fmt: skip
FIELDS = [
    "apiVersion", "kind", "metadata", "spec", "name", "project", "channel", "channels",
    "template", "profile", "properties", "restartPolicy", "protect", "archiveHistory", "appId",
    "customerId", "customerSecret", "appCertificate", "region", "baseUrl",
    "maxConcurrentAgents", "namePrefix", "tokenLifetimeSeconds", "agent_rtc_uid",
    "remote_rtc_uids", "enable_string_uid", "idle_timeout", "llm", "asr", "tts", "mllm",
    "api_key", "key", "token", "params", "system_messages", "labels", "max_history",
]  # fmt: skip
KINDS = ["Project", "Profile", "Agent", "AgentSet", "Agnet", ""]

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats()
    | st.text(max_size=30)
    | st.sampled_from(FRAGMENTS)
)
trees = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8), children, max_size=5)
    ),
    max_leaves=30,
)


@st.composite
def manifest_shaped(draw: st.DrawFn) -> bytes:
    """A manifest skeleton with random values: reaches the models and the cross-document checks."""
    document: dict[str, Any] = {
        "apiVersion": draw(st.sampled_from(["reconciler/v1", "reconciler/v2"])),
        "kind": draw(st.sampled_from(KINDS)),
        "metadata": draw(st.fixed_dictionaries({"name": st.sampled_from(["a", "b", "Bad Name"])},
                                               optional={"project": st.sampled_from(["p", "q"])})),
        "spec": draw(trees),
    }  # fmt: skip
    return yaml.safe_dump(document, allow_unicode=True).encode()


@st.composite
def mutated_sample(draw: st.DrawFn) -> bytes:
    """A real manifest with a few lines deleted, duplicated, indented or spliced with fragments."""
    lines = draw(st.sampled_from(SAMPLES)).split("\n")
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        index = draw(st.integers(min_value=0, max_value=max(len(lines) - 1, 0)))
        operation = draw(st.sampled_from(["delete", "duplicate", "indent", "splice", "truncate"]))
        line = lines[index] if lines else ""
        if operation == "delete" and lines:
            del lines[index]
        elif operation == "duplicate":
            lines.insert(index, line)
        elif operation == "indent":
            lines[index : index + 1] = [" " * draw(st.integers(0, 6)) + line.lstrip()]
        elif operation == "splice":
            at = draw(st.integers(min_value=0, max_value=len(line)))
            lines[index : index + 1] = [line[:at] + draw(st.sampled_from(FRAGMENTS)) + line[at:]]
        else:
            lines = lines[:index]
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8", "latin-1", "utf-16"]))
    return "\n".join(lines).encode(encoding, errors="replace")


@st.composite
def perturbed_fleet(draw: st.DrawFn) -> bytes:
    """The sample fleet with a few values replaced by random trees, or removed.

    Mostly valid YAML and mostly valid documents, so that the merge, expansion and uid checks see
    odd input that got past the models.
    """
    documents = copy.deepcopy(FLEET_DOCUMENTS)
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        node: Any = draw(st.sampled_from(documents))
        parent, key = None, None
        while isinstance(node, dict | list) and node and (parent is None or draw(st.booleans())):
            keys = list(node) if isinstance(node, dict) else list(range(len(node)))
            parent, key = node, draw(st.sampled_from(keys))
            node = parent[key]
        if parent is not None and draw(st.booleans()):
            parent[key] = draw(trees)
        elif isinstance(parent, dict):
            del parent[key]
    return yaml.safe_dump_all(documents, allow_unicode=True).encode()


manifest_inputs = st.one_of(
    st.binary(max_size=512),
    st.text(max_size=512).map(lambda text: text.encode("utf-8", errors="surrogatepass")),
    manifest_shaped(),
    mutated_sample(),
    perturbed_fleet(),
)


def check_load(files: list[bytes], *, directory: Path) -> None:
    """Write the files, load them, render the result: any exception is the failure looked for."""
    for stale in directory.iterdir():
        stale.unlink()
    for index, content in enumerate(files):
        (directory / f"m{index}.yaml").write_bytes(content)
    result = load.load_fleet(directory)
    assert (result.fleet is None) == any(d.is_error for d in result.diagnostics)
    report.render_json(result, source="fuzz")
    report.render_github(result.diagnostics)
    for diagnostic in result.diagnostics:
        str(diagnostic)


EXAMPLES = int(os.environ.get("RECONCILER_FUZZ_EXAMPLES", "300"))


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(files=st.lists(manifest_inputs, min_size=1, max_size=3))
def test_loading_any_input_returns_diagnostics_and_never_raises(files: list[bytes]) -> None:
    """No input makes the loader or the renderers raise; a fleet comes back only without errors."""
    with tempfile.TemporaryDirectory() as directory:
        check_load(files, directory=Path(directory))
