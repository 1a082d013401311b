"""Reading a controller's progress lines with a deadline that holds even when it prints nothing."""
from __future__ import annotations

import queue
import subprocess
import threading
import time
from collections.abc import Callable


def lines_until(proc: subprocess.Popen, done: Callable[[list[str]], bool],
                budget: float) -> list[str]:
    """The lines `proc` prints until done(lines) holds, its output ends, or `budget` seconds
    pass: a reader thread waits on the pipe, so a silent process cannot hold the caller past
    the budget (checking the clock per line would)."""
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        for line in proc.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + budget
    seen: list[str] = []
    while not done(seen):
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            break                      # the budget ran out with no new line
        if line is None:
            break                      # the process closed its output (it ended)
        seen.append(line)
    return seen
