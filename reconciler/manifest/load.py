"""Load a directory of manifests into a DesiredFleet, with every problem found on the way.

The one entry point of the manifest stage: find the ``*.yaml`` and ``*.yml`` files, read them,
judge each document, put them together, and return a ``LoadResult``. It never raises on bad
input (missing paths, unreadable, binary or huge files, broken YAML): each problem is a
diagnostic, and a fleet comes back only when there is no error. It resolves secrets only when
asked to (``environ``), and then only to check that they resolve; the values are dropped.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import hashlib
import os
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from reconciler.manifest import (
    assemble,
    documents,
    models,
    reference_sites,
    secrets,
    yaml_source,
)
from reconciler.manifest.desired import DesiredFleet
from reconciler.manifest.diagnostics import Diagnostic

MAX_FILE_BYTES: Final = 32 * 1024 * 1024
SUFFIXES: Final = (".yaml", ".yml")


@dataclass(frozen=True, slots=True)
class LoadResult:
    """What a load found.

    ``fleet`` is None when any diagnostic is an error; warnings alone leave it usable.
    ``digest`` is a sha256 over the manifest files' paths (relative to the loaded path) and bytes,
    so a saved plan can tell that the manifests changed since.
    """

    fleet: DesiredFleet | None
    diagnostics: tuple[Diagnostic, ...]
    digest: str

    @property
    def errors(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if d.is_error)

    @property
    def warnings(self) -> tuple[Diagnostic, ...]:
        return tuple(d for d in self.diagnostics if not d.is_error)


@dataclass(frozen=True, slots=True)
class _File:
    path: Path
    display: str
    relative: str


def load_fleet(
    path: Path, *, environ: Mapping[str, str] | None = None, strict: bool = False
) -> LoadResult:
    """Every manifest under ``path`` (a directory, searched recursively, or one file).

    Hidden files and directories (``.schema/``, ``.git/``) are skipped; symlinked files and
    directories are followed (a directory reached twice is an error), and anything unreadable
    is an error, so a fleet never comes back smaller than its files. With ``environ``, every
    ``${env:...}`` and ``${file:...}`` reference must also resolve, as ``validate
    --resolve-secrets`` asks; without it references are only checked for form. Field names in
    properties that Agora does not document are warnings, or errors with ``strict`` (``validate
    --strict``) and in the agents of a Project that sets ``strictProperties``.
    """
    with _collector_paused():
        return _load(path, environ=environ, strict=strict)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while loading.

    A big fleet is millions of small objects, none of them in a reference cycle; the collector
    would rescan them all again and again and double the load time for nothing.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class CachedLoader:
    """``load_fleet`` for a process that loads the same manifests pass after pass (the daemon).

    The files are still found and read every time, which is cheap; parsing and assembling them,
    which is not, is skipped when their paths and bytes, what the walk reported and the allowed
    secret directories are all as they were last time: the last result is handed back.
    """

    def __init__(self) -> None:
        self._kept: tuple[tuple[object, ...], LoadResult] | None = None

    def load(self, path: Path) -> LoadResult:
        """What ``load_fleet(path)`` gives, parsed again only when something it read changed."""
        with _collector_paused():
            return _load(path, environ=None, strict=False, cache=self)

    def kept(self, key: tuple[object, ...]) -> LoadResult | None:
        """The last result, when it was loaded from exactly what ``key`` says."""
        return self._kept[1] if self._kept is not None and self._kept[0] == key else None

    def keep(self, key: tuple[object, ...], result: LoadResult) -> None:
        self._kept = (key, result)


def _load(
    path: Path,
    *,
    environ: Mapping[str, str] | None,
    strict: bool,
    cache: CachedLoader | None = None,
) -> LoadResult:
    diagnostics: list[Diagnostic] = []
    unknown: list[tuple[documents.Entry, list[Diagnostic]]] = []
    digest = hashlib.sha256()
    entries: list[documents.Entry] = []
    projects: set[str] = set()
    profiles: set[str] = set()
    complete = True
    # Checked on every load (paths only, nothing read), so plain `validate` on CI refuses them;
    # which directories are allowed is the process's setting even when nothing is resolved.
    roots = secrets.allowed_roots(path.absolute(), environ=os.environ)
    read: list[tuple[_File, bytes]] = []
    for file in _discover(path, diagnostics):
        data = _read(file, diagnostics)
        if data is None:
            complete = False
            continue
        digest.update(f"{file.relative}\0{len(data)}\0".encode())
        digest.update(data)
        read.append((file, data))
    key = (str(path.absolute()), digest.hexdigest(), tuple(diagnostics), complete, roots)
    kept = None if cache is None else cache.kept(key)
    if kept is not None:
        return kept
    for file, data in read:
        parsed = yaml_source.parse(data, path=file.display)
        diagnostics.extend(parsed.diagnostics)
        complete = complete and parsed.complete
        for doc in parsed.documents:
            complete = complete and not doc.broken
            named = documents.declared(doc)
            if named and named[0] == "Project":
                projects.add(named[1])
            elif named and named[0] == "Profile":
                profiles.add(named[1])
            entry, found = documents.read(doc, environ=environ, roots=roots)
            diagnostics.extend(found)
            if entry is not None:
                entries.append(entry)
                unknown.append((entry, list(documents.unknown_fields(entry))))
    diagnostics.extend(_judge_unknown(unknown, strict=strict))
    declared = assemble.Declared(frozenset(projects), frozenset(profiles), complete)
    fleet, found = assemble.assemble(entries, declared=declared)
    diagnostics.extend(found)
    unique = sorted(set(diagnostics), key=Diagnostic.sort_key)
    ok = not any(d.is_error for d in unique)
    if ok:
        sites = (site for e in entries for site in reference_sites.sites_in(e.doc, e.references))
        index = reference_sites.index(sites, (e.doc for e in entries))
        fleet = dataclasses.replace(fleet, references=index)
    result = LoadResult(fleet if ok else None, tuple(unique), digest.hexdigest())
    if cache is not None:
        cache.keep(key, result)
    return result


def _judge_unknown(
    found: list[tuple[documents.Entry, list[Diagnostic]]], *, strict: bool
) -> Iterator[Diagnostic]:
    """Undocumented property names: errors with ``strict``, in the agents of a Project that sets
    ``strictProperties``, and in profiles once any Project sets it (a profile has no project of
    its own); warnings elsewhere."""
    strict_projects = {
        entry.model.metadata.name
        for entry in (e for e, _ in found)
        if isinstance(entry.model, models.Project) and entry.model.spec.strict_properties
    }
    for entry, diagnostics in found:
        model = entry.model
        if isinstance(model, models.Profile):
            promote = strict or bool(strict_projects)
        elif isinstance(model, models.Agent | models.AgentSet):
            promote = strict or model.metadata.project in strict_projects
        else:
            promote = strict
        for diagnostic in diagnostics:
            yield dataclasses.replace(diagnostic, severity="error") if promote else diagnostic


def _discover(root: Path, sink: list[Diagnostic]) -> Iterator[_File]:
    try:
        is_file, is_dir, exists = root.is_file(), root.is_dir(), root.exists()
    except OSError as exc:
        sink.append(Diagnostic(str(root), None, None, None, f"cannot be read: {_reason(exc)}"))
        return
    if is_file:
        yield _File(root, str(root), root.name)
        return
    if not is_dir:
        reason = "not a file or directory" if exists else "no such file or directory"
        sink.append(Diagnostic(str(root), None, None, None, reason))
        return
    found: list[_File] = []
    # Symlinked directories are followed, as the files they hold are part of the fleet; a
    # directory reached twice (a loop, or two links to one place) is an error, not a skip.
    seen: dict[tuple[int, int], str] = {}
    walk = os.walk(root, onerror=lambda exc: _walk_error(exc, sink), followlinks=True)
    for folder, subfolders, names in walk:
        if not _first_visit(Path(folder), seen, sink):
            subfolders[:] = []
            continue
        subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
        for name in names:
            if name.startswith("."):
                continue
            full = Path(folder, name)
            if name.endswith(SUFFIXES):
                found.append(_File(full, str(full), full.relative_to(root).as_posix()))
            elif name.lower().endswith(SUFFIXES):
                message = "is not read: manifests end in .yaml or .yml, in lower case"
                sink.append(Diagnostic(str(full), None, None, None, message, "warning"))
    if not found:
        sink.append(
            Diagnostic(str(root), None, None, None, "holds no *.yaml or *.yml manifests", "warning")
        )
    yield from sorted(found, key=lambda f: f.relative)


def _first_visit(folder: Path, seen: dict[tuple[int, int], str], sink: list[Diagnostic]) -> bool:
    """Whether ``folder`` is a directory not walked before (by its device and inode)."""
    try:
        status = folder.stat()
    except OSError as exc:
        _walk_error(exc, sink)
        return False
    identity = (status.st_dev, status.st_ino)
    first = seen.setdefault(identity, str(folder))
    if first == str(folder):
        return True
    message = f"is the directory {first} again (a symlink loop, or two links to it); read once"
    sink.append(Diagnostic(str(folder), None, None, None, message))
    return False


def _walk_error(exc: OSError, sink: list[Diagnostic]) -> None:
    sink.append(Diagnostic(str(exc.filename), None, None, None, f"cannot be read: {_reason(exc)}"))


def _read(file: _File, sink: list[Diagnostic]) -> bytes | None:
    try:
        status = file.path.stat()
        if not stat.S_ISREG(status.st_mode):
            problem = "is not a regular file"
        elif status.st_size > MAX_FILE_BYTES:
            problem = f"is larger than {MAX_FILE_BYTES // 1024 // 1024} MiB, the most we read"
        else:
            return file.path.read_bytes()
    except OSError as exc:
        problem = f"cannot be read: {_reason(exc)}"
    sink.append(Diagnostic(file.display, None, None, None, problem))
    return None


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)
