"""The integration tests' progress reader: its budget holds even when the process prints
nothing (a reader thread waits on the pipe; no per-line clock check)."""
from __future__ import annotations

import subprocess
import sys
import threading

from tests.integration.progress import lines_until


def _silent_then_killed(budget: float) -> tuple[list[str], bool]:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"],
                            stdout=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    found: list[list[str]] = []
    reader = threading.Thread(target=lambda: found.append(lines_until(proc, lambda _: False,
                                                                      budget)), daemon=True)
    reader.start()
    reader.join(timeout=120)          # a hang shows as a reader still alive, not a stuck suite
    returned = not reader.is_alive()
    proc.kill()
    proc.wait(timeout=10)
    proc.stdout.close()
    return (found[0] if found else []), returned


def test_a_process_that_prints_nothing_cannot_hold_the_reader_past_its_budget():
    lines, returned = _silent_then_killed(0.2)
    assert returned and lines == []


def test_lines_are_read_until_the_condition_holds():
    proc = subprocess.Popen([sys.executable, "-c",
                             "import time\nfor i in range(5): print(i, flush=True)\n"
                             "time.sleep(600)"],
                            stdout=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    try:
        lines = lines_until(proc, lambda got: len(got) >= 3, 60.0)
    finally:
        proc.kill()
        proc.wait(timeout=10)
        proc.stdout.close()
    assert lines == ["0\n", "1\n", "2\n"]


def test_the_reader_stops_when_the_process_ends():
    proc = subprocess.Popen([sys.executable, "-c", "print('only')"], stdout=subprocess.PIPE,
                            text=True, stdin=subprocess.DEVNULL)
    lines = lines_until(proc, lambda got: False, 60.0)
    proc.wait(timeout=10)
    proc.stdout.close()
    assert lines == ["only\n"]
