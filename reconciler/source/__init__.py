"""Where the daemon's manifests come from: a local directory, or the commits of a git repository.

A source hands the daemon a ``Checkout`` (a directory and the commit it holds) before each pass,
and is told whether the manifests in it loaded, so that a git source switches to a commit only
once it is known good and keeps the last good one otherwise. ``git`` fetches and checks out with
the ``git`` command line; ``credentials`` holds how it authenticates and masks what it prints;
``record`` is the small file beside the state that tells ``status`` what the daemon runs;
``signatures`` decides which commits may deploy when signatures are required.

It never loads, plans or applies manifests, and never speaks to Agora.
"""

from __future__ import annotations

from reconciler.source.credentials import GitCredentials
from reconciler.source.git import GitSettings, GitSource, GitSourceError
from reconciler.source.local import Checkout, LocalSource, Source, head_revision
from reconciler.source.record import SourceRecord, git_dir, read_record, record_path
from reconciler.source.signatures import UnverifiedRevisionError

__all__ = [
    "Checkout",
    "GitCredentials",
    "GitSettings",
    "GitSource",
    "GitSourceError",
    "LocalSource",
    "Source",
    "SourceRecord",
    "UnverifiedRevisionError",
    "git_dir",
    "head_revision",
    "read_record",
    "record_path",
]
