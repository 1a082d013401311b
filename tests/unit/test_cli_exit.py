"""The `mapslab` command ends with its exit code and all of its output, however it ends."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _mapslab(*argv: str) -> subprocess.CompletedProcess[str]:
    code = "import sys; sys.argv = ['mapslab', *sys.argv[1:]]; from emulator.cli.main import run; run()"
    return subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)


def test_a_command_that_succeeds_exits_0_with_its_whole_output():
    done = _mapslab("validate", "topologies/seattle.yaml")
    assert done.returncode == 0
    assert done.stdout.rstrip().endswith("topologies/seattle.yaml: valid: 0 errors, 10 warnings")


def test_a_failing_command_keeps_its_exit_code_and_its_message():
    done = _mapslab("validate", "topologies/no-such-file.yaml")
    assert done.returncode != 0
    assert "no-such-file.yaml" in done.stderr


def test_exit_handlers_still_run():
    code = ("import atexit, sys; atexit.register(lambda: print('handler ran', flush=True)); "
            "sys.argv = ['mapslab', 'validate', 'topologies/seattle.yaml']; "
            "from emulator.cli.main import run; run()")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                          timeout=60)
    assert done.returncode == 0 and "handler ran" in done.stdout
