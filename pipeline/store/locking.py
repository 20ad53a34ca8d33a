"""Waiting for DuckDB's file lock instead of failing on it.

DuckDB lets one process open a file read-write, or any number open it read-only, never both; whoever
comes second gets an error at once that names the holder. A nightly run opens the file per stage and
closes it in between, and analysts' queries hold it only while DuckDB computes, so both sides wait
for the other to let go (with a message) rather than fail.
"""

from __future__ import annotations

import re
import time
from typing import Callable, TypeVar

import duckdb

T = TypeVar("T")


class DatabaseBusy(RuntimeError):
    """The file stayed locked by another process for longer than the caller wanted to wait."""


def is_lock_conflict(exc: BaseException | None) -> bool:
    while exc is not None:
        if isinstance(exc, duckdb.IOException) and "lock" in str(exc).lower():
            return True
        exc = exc.__cause__
    return False


def lock_holder(exc: BaseException | None) -> str:
    """'process 1234' from DuckDB's lock message, so the user knows which process to look at."""
    while exc is not None:
        if match := re.search(r"PID (\d+)", str(exc)):
            return f"process {match.group(1)}"
        exc = exc.__cause__
    return "another process"


def wait_for_unlock(open_fn: Callable[[], T], path, wait_s: float, notify: Callable[[str], None],
                    poll_s: float = 0.5, limit_name: str = "") -> T:
    """Call ``open_fn`` until it stops failing on DuckDB's file lock, for at most ``wait_s`` seconds.

    ``notify`` gets one line when the wait starts (and every 30 s); on timeout ``busy`` is raised,
    saying who holds the file. ``limit_name`` names the setting that changes ``wait_s`` ("--wait")."""
    limit = f" ({limit_name})" if limit_name else ""
    deadline = time.monotonic() + max(wait_s, 0)
    next_note = 0.0
    while True:
        try:
            return open_fn()
        except Exception as exc:  # duckdb.IOException, or an error wrapping it
            if not is_lock_conflict(exc):
                raise
            now = time.monotonic()
            if now >= deadline:
                raise DatabaseBusy(f"{path} is still locked by {lock_holder(exc)} after waiting {wait_s:g} s "
                           "(a nightly run or a query using it?); try again later") from exc
            if now >= next_note:
                notify(f"{path} is locked by {lock_holder(exc)} (a nightly run or a query using it?); "
                       f"waiting up to {deadline - now:.0f} s more{limit} ...")
                next_note = now + 30
            time.sleep(min(poll_s, max(deadline - now, 0.01)))
