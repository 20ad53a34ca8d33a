"""One run at a time per database: an exclusive lock held for the whole nightly run.

The database file itself is opened per stage and closed in between (so analysts can query while the
NLP stage works), which means two runs started together could interleave their stages. A run therefore
takes an advisory lock on ``<db>.run-lock`` first (``flock``: the kernel releases it when the process
ends, however it ends, so a killed run leaves no stale lock) and a second run stops at once with a
message naming the first.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
from pathlib import Path
from typing import Iterator


class RunInProgress(RuntimeError):
    """Another run holds the run lock of this database."""


def lock_path(db_path: Path | str) -> Path:
    db_path = Path(db_path)
    return db_path.with_name(db_path.name + ".run-lock")


@contextlib.contextmanager
def exclusive_run(db_path: Path | str) -> Iterator[Path]:
    """Hold the run lock of ``db_path`` for the duration of the block; :class:`RunInProgress` when
    another process holds it."""
    path = lock_path(db_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+", encoding="utf-8")
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise RunInProgress(f"another exoclaims run is in progress on {db_path} ({holder}); "
                                f"this one does nothing and stops") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"PID {os.getpid()}, started {dt.datetime.now().isoformat(timespec='seconds')}")
        handle.flush()
        yield path
    finally:
        handle.close()  # closing releases the lock
