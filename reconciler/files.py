"""Writing a file whole or not at all, readable by its owner only.

Saved plans and archived transcripts must never be seen half-written (a reader finds the old file
or the new one) nor by other users (a transcript holds what people said). It knows nothing of
what it writes and decides nothing about when; errors are the caller's to word.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, creating its directory; ``OSError`` when it cannot.

    The text goes to a temporary file beside ``path`` (``mkstemp`` makes it 0600), is synced to
    disk, then renamed over ``path``; a failure leaves no temporary file behind.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
