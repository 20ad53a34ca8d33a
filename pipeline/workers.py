"""Set-up for the NLP stage's worker processes."""

from __future__ import annotations

import os
import threading
import time


def exit_with_parent(poll_s: float = 1.0) -> None:
    """Run in each worker process at start: end the worker when the process that started it is gone.

    A run killed outright (SIGKILL, the OOM killer) cannot shut its process pool down, and its workers,
    each holding the NLP models in memory, would otherwise live on as orphans."""
    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(poll_s)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
