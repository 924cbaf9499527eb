"""Golden diagnostics: each bad manifest in tests/manifests/bad gives exactly its expected lines.

A case is one file, or one directory for mistakes that span files. Its expectations are comments
at the end of each file: ``# expect: LINE:COL FIELD: MESSAGE`` (or ``# expect warning: ...``), so
a case and what it must say are read together. ``# schema: reject|accept`` says whether the JSON
Schema alone can see the mistake.
"""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
import yaml

from reconciler.manifest import load, schema
from reconciler.manifest.diagnostics import Diagnostic

CORPUS = Path(__file__).parents[1] / "manifests" / "bad"
CASES = sorted(p.name for p in CORPUS.iterdir())


def _files(case: Path) -> list[Path]:
    return [case] if case.is_file() else sorted(case.iterdir())


def _expected(case: Path) -> list[tuple[str, str]]:
    found = []
    for file in _files(case):
        for line in file.read_text().splitlines():
            if line.startswith("# expect: "):
                found.append((file.as_posix(), "error " + line.removeprefix("# expect: ")))
            elif line.startswith("# expect warning: "):
                found.append(
                    (file.as_posix(), "warning " + line.removeprefix("# expect warning: "))
                )
    return sorted(found)


def _rendered(d: Diagnostic) -> tuple[str, str]:
    where = f"{d.line}:{d.column}" if d.line is not None else "-"
    body = f"{d.field}: {d.message}" if d.field else d.message
    return d.path, f"{d.severity} {where} {body}"


@pytest.mark.parametrize("case", CASES)
def test_bad_manifest_gives_its_exact_diagnostics(
    case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every expected diagnostic appears, on its line and column, and nothing else does."""
    monkeypatch.chdir(CORPUS)
    result = load.load_fleet(Path(case))
    assert sorted(_rendered(d) for d in result.diagnostics) == _expected(Path(case))
    assert _expected(Path(case)), "a corpus case must expect at least one diagnostic"


@pytest.mark.parametrize("case", CASES)
def test_bad_manifest_with_an_error_yields_no_fleet(case: str) -> None:
    """A fleet comes back only when every expected diagnostic is a warning."""
    result = load.load_fleet(CORPUS / case)
    has_error = any(text.startswith("error ") for _, text in _expected(CORPUS / case))
    assert (result.fleet is None) == has_error


def _schema_verdicts() -> list[tuple[str, str]]:
    verdicts = []
    for case in CASES:
        for file in _files(CORPUS / case):
            for line in file.read_text().splitlines():
                if line.startswith("# schema: "):
                    verdicts.append((file.relative_to(CORPUS).as_posix(), line.split()[-1]))
    return verdicts


@pytest.mark.parametrize(("file", "verdict"), _schema_verdicts())
def test_json_schema_rejects_what_it_can_know(file: str, verdict: str) -> None:
    """The schema rejects the mistakes a schema can see, and accepts the ones it cannot."""
    validator = jsonschema.Draft202012Validator(schema.manifest_schema())
    documents = [d for d in yaml.safe_load_all((CORPUS / file).read_text()) if d is not None]
    valid = all(validator.is_valid(d) for d in documents)
    assert valid == (verdict == "accept")
