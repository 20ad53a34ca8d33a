import os
import signal
import subprocess
import sys

import pytest

from helpers import PROJECT
from pipeline.store.runlock import RunInProgress, exclusive_run, lock_path


def _holder(db_path):
    """A real second process holding the run lock until killed."""
    script = ("import sys, time; from pipeline.store.runlock import exclusive_run\n"
              f"with exclusive_run({str(db_path)!r}):\n    print('locked', flush=True); time.sleep(60)")
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=PROJECT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_a_second_run_is_refused_naming_the_first_and_a_killed_run_leaves_no_stale_lock(tmp_path):
    db_path = tmp_path / "x.duckdb"
    holder = _holder(db_path)
    try:
        with pytest.raises(RunInProgress, match=rf"in progress on .*x.duckdb \(PID {holder.pid}, started "):
            with exclusive_run(db_path):
                pass
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
    with exclusive_run(db_path) as path:  # the kernel released the killed process's lock
        assert path == lock_path(db_path) and f"PID {os.getpid()}" in path.read_text()
