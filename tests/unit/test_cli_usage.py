"""Usage lines that say what an argument takes: fail, failover and portal."""
from __future__ import annotations

import subprocess
import sys

from emulator.judge import scenarios
from emulator.judge.scenarios.base import TargetKind


def _help() -> str:
    done = subprocess.run([sys.executable, "-m", "emulator.cli.main", "fail", "--help"],
                          capture_output=True, text=True, timeout=60, check=True)
    return " ".join(done.stdout.split())


def test_every_scenario_is_named_with_its_target() -> None:
    usage = scenarios.registry.target_usage()
    for name, scenario in scenarios.registered().items():
        assert name in usage, name
        if scenario.target_kind is TargetKind.MEMBER:
            part = next(p for p in usage.split("; ") if name in p.split(": ")[0])
            assert "--member" in part, part


def test_lacp_mismatch_names_a_member_in_the_help() -> None:
    text = _help()
    assert "lacp-mismatch" in text.split("--member N")[0].rsplit(";", 1)[-1], text


def test_failover_takes_no_target_and_then_aims_the_fault() -> None:
    done = subprocess.run([sys.executable, "-m", "emulator.cli.main", "failover", "nosuchlab",
                           "lag-down"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "no lab named 'nosuchlab'" in done.stderr, done.stderr     # past argument parsing
    assert "aimed at the path carrying the probe" in " ".join(_help_of("failover").split())


def test_fail_still_needs_a_target() -> None:
    done = subprocess.run([sys.executable, "-m", "emulator.cli.main", "fail", "nosuchlab",
                           "lag-down"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "target" in done.stderr, done.stderr


def _help_of(command: str) -> str:
    return subprocess.run([sys.executable, "-m", "emulator.cli.main", command, "--help"],
                          capture_output=True, text=True, timeout=60, check=True).stdout


def test_a_portal_port_out_of_range_is_a_usage_error() -> None:
    for port in ("99999", "-1", "x"):
        done = subprocess.run([sys.executable, "-m", "emulator.cli.main", "portal", "--port",
                               port], capture_output=True, text=True, timeout=60)
        assert done.returncode == 2 and "--port must be" in done.stderr, done.stderr
        assert "Traceback" not in done.stderr
