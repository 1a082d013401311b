"""`mapslab capture` without root: names refused before anything runs, the bounds, and the packet
count read from tcpdump's recorded words (tests/fixtures/tcpdump/)."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from emulator.core.errors import CommandFailed, MapsLabError, RuntimeUnavailable
from emulator.observe import capture as capture_module
from tests.conftest import FIXTURES

TCPDUMP = FIXTURES / "tcpdump"


class RecordedRun:
    """subprocess.run for the capture: answers with one recorded tcpdump stderr and exit code."""

    def __init__(self, stderr_file: str | None, returncode: int):
        self.stderr = (TCPDUMP / stderr_file).read_text() if stderr_file else ""
        self.returncode = returncode
        self.asked: list[list[str]] = []

    def __call__(self, argv, **kwargs):
        self.asked.append(list(argv))
        return subprocess.CompletedProcess(argv, self.returncode, "", self.stderr)


@pytest.fixture
def tcpdump_here(monkeypatch):
    monkeypatch.setattr(capture_module.shutil, "which", lambda tool: f"/usr/bin/{tool}")


def recorded(monkeypatch, stderr_file: str | None, returncode: int) -> RecordedRun:
    run = RecordedRun(stderr_file, returncode)
    monkeypatch.setattr(capture_module.subprocess, "run", run)
    return run


@pytest.mark.parametrize("node, ifname", [("sea-pr1", "lag0; rm -rf /"), ("sea-pr1", "x" * 16),
                                          ("Sea-PR1", "lag0"), ("../x", "lag0"),
                                          ("sea-pr1-", "lag0")])
def test_a_bad_node_or_interface_is_refused_before_anything_runs(monkeypatch, tmp_path,
                                                                 tcpdump_here, node, ifname):
    run = recorded(monkeypatch, "count-reached.stderr", 0)
    with pytest.raises((ValueError, MapsLabError)) as refused:
        capture_module.capture("seattle", node, ifname, tmp_path / "x.pcap")
    assert (node in str(refused.value)) or (ifname in str(refused.value))
    assert run.asked == []


def test_a_good_name_runs_tcpdump_in_the_nodes_namespace_bounded(monkeypatch, tmp_path,
                                                                 tcpdump_here):
    run = recorded(monkeypatch, "count-reached.stderr", 0)
    found = capture_module.capture("seattle", "sea-pr1", "lag0", tmp_path / "x.pcap", count=4,
                                   seconds=3, bpf="tcp port 179")
    [argv] = run.asked
    assert argv == ["timeout", "--signal=INT", "3", "ip", "netns", "exec", "ml-seattle-sea-pr1",
                    "tcpdump", "-i", "lag0", "-U", "-n", "-c", "4", "-w",
                    str(tmp_path / "x.pcap"), "tcp port 179"]
    # tcpdump's "4 packets captured", not the 12 "received by filter"
    assert found == capture_module.Capture(tmp_path / "x.pcap", 4)


def test_the_bounds_hold_whatever_is_asked(monkeypatch, tmp_path, tcpdump_here):
    run = recorded(monkeypatch, "count-reached.stderr", 0)
    capture_module.capture("seattle", "sea-pr1", "lag0", tmp_path / "a.pcap", count=10**9,
                           seconds=10**6)
    capture_module.capture("seattle", "sea-pr1", "lag0", tmp_path / "b.pcap", count=-5,
                           seconds=0)
    big, small = run.asked
    assert (big[2], big[big.index("-c") + 1]) == (str(capture_module.MAX_SECONDS),
                                                  str(capture_module.MAX_PACKETS))
    assert (small[2], small[small.index("-c") + 1]) == ("1", "1")


def test_the_time_bound_is_not_a_failure(monkeypatch, tmp_path, tcpdump_here):
    recorded(monkeypatch, "time-bound.stderr", 124)       # timeout(1) stopped tcpdump
    found = capture_module.capture("seattle", "sea-pr1", "lag0", tmp_path / "x.pcap")
    assert found.packets == 0


def test_tcpdump_failing_is_an_error_with_its_words(monkeypatch, tmp_path, tcpdump_here):
    recorded(monkeypatch, "no-such-device.stderr", 1)
    with pytest.raises(CommandFailed, match="No such device exists"):
        capture_module.capture("seattle", "sea-pr1", "lag9", tmp_path / "x.pcap")


def test_without_tcpdump_it_says_how_to_get_it(monkeypatch, tmp_path):
    monkeypatch.setattr(capture_module.shutil, "which", lambda tool: None)
    run = recorded(monkeypatch, None, 0)
    with pytest.raises(RuntimeUnavailable, match="tcpdump"):
        capture_module.capture("seattle", "sea-pr1", "lag0", tmp_path / "x.pcap")
    assert run.asked == []
    assert not Path(tmp_path / "x.pcap").exists()
