"""On a real lab, every vtysh and birdc read the observers make gets the same answer over the
program's control socket as from the spawned vtysh or birdc.

The reads are the ones the observers issue (recorded through a host that passes them on), so a
new read is covered without editing this file. The two answers are taken a moment apart: the
values of counters and timers that tick between them (FRR's JSON keys in VOLATILE_KEYS, BIRD's
hold and keepalive timers) are masked in both texts; every other byte must be equal, in order.
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from emulator.nodes.base import OBSERVE_TIMEOUT
from emulator.observe import control_sockets, observers
from emulator.plan.model import Role
from tests.integration.conftest import LAB_PREFIX, lab_named, topology_copy

pytestmark = pytest.mark.integration

# FRR 8.4 `show bgp neighbors json` / `show bgp summary json` fields that change by themselves
# while a session is up (message counters, timers, uptime).
VOLATILE_KEYS = ("bgpInUpdateElapsedTimeMsecs", "bgpTimerLastRead", "bgpTimerLastWrite",
                 "bgpTimerUpMsec", "bgpTimerUpString", "estimatedRttInMsecs", "keepalivesRecv",
                 "keepalivesSent", "lastResetTimerMsecs", "totalRecv", "totalSent", "msgRcvd",
                 "msgSent", "peerUptime", "peerUptimeMsec", "nextConnectTimerDueInMsecs")
_FRR_VOLATILE = re.compile(r'"(%s)":[^,\n}]*' % "|".join(VOLATILE_KEYS))
# BIRD `show protocols all`: "Hold timer: 7.659/10", "Keepalive timer: 0.515/3".
_BIRD_VOLATILE = re.compile(r"^(\s+(?:Hold|Keepalive) timer:\s+)\S+", re.M)

# Reads the observers do not make, for the error paths (an unknown table: birdc exits 1).
EXTRA_BIRD = ("show route table nosuch", "show protocols all nosuch")
EXTRA_FRR = ("show bgp neighbors 192.0.2.254 json", "show ip bgp summary")


class RecordingHost:
    """This machine's host, keeping every argv the observers run."""

    def __init__(self) -> None:
        self.argvs: list[list[str]] = []

    def run(self, node, argv, check=True, timeout=30.0):
        self.argvs.append(list(argv))
        return observers.LOCAL.run(node, argv, check, timeout)

    def spawn(self, node, argv, log, env=None) -> int:
        raise NotImplementedError("observers only read")

    def read_text(self, node: str, path: Path) -> str | None:
        return observers.LOCAL.read_text(node, path)


def _masked(text: str) -> str:
    return _BIRD_VOLATILE.sub(r"\1_", _FRR_VOLATILE.sub(r'"\1":_', text))


def _spawned(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=OBSERVE_TIMEOUT,
                          stdin=subprocess.DEVNULL, check=False)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    name = f"{LAB_PREFIX}sock"
    with lab_named(name, topology_copy(tmp_path_factory.mktemp("topo"), name)) as running:
        yield running


@pytest.fixture(scope="module")
def reads(lab) -> list[list[str]]:
    """Every vtysh and birdc argv the observers issue on this lab, once each."""
    host = RecordingHost()
    plan, node_dir = lab.plan, lab.node_dir
    observers.all_sessions(plan, node_dir, host)
    for node in plan.nodes:
        if node.role in observers.OBSERVED_ROLES:
            observers.node_sessions(plan, node.name, node_dir(node.name), host)
            observers.node_routes(plan, node.name, node_dir(node.name), host)
    observers.members_missing(plan, node_dir, host)
    for node in plan.nodes_with(Role.INTERNET):
        observers.internet_sources(plan, node.name, node_dir(node.name), host)
        observers.bird_prefixes(node_dir(node.name), host, node.name)
    for node in plan.nodes_with(Role.PEER_ROUTER):
        observers.microsoft_prefix_count(plan, node.name, node_dir(node.name), host)
    found: dict[str, list[str]] = {}
    for argv in host.argvs:
        if argv[0] in ("vtysh", "birdc"):
            found.setdefault(" ".join(argv), argv)
    return list(found.values())


def test_observers_read_both_programs(reads) -> None:
    programs = {argv[0] for argv in reads}
    assert programs == {"vtysh", "birdc"}, reads
    commands = {argv[-1] for argv in reads}
    assert {"show bgp neighbors json", "show bgp summary json", "show protocols all"} <= commands


def _with_extras(reads: list[list[str]]) -> list[list[str]]:
    vtysh = next(argv for argv in reads if argv[0] == "vtysh")
    birdc = next(argv for argv in reads if argv[0] == "birdc")
    return reads + [[*vtysh[:-1], command] for command in EXTRA_FRR] \
        + [[*birdc[:-1], command] for command in EXTRA_BIRD]


# A router's counters may move between the socket read and the spawned one (a route server
# still passing routes, a keepalive): the pair is read again, up to this many times. A
# difference that is the client's own shows in every pair.
ATTEMPTS = 3


def _first_line_apart(a: str, b: str) -> str:
    for number, (x, y) in enumerate(zip(a.splitlines(), b.splitlines()), start=1):
        if x != y:
            return f"line {number}:\n  socket:  {x!r}\n  spawned: {y!r}"
    return f"lengths {len(a.splitlines())} and {len(b.splitlines())} lines"


def _difference(argv: list[str]) -> str:
    """'' once a socket read and a spawned one agree; else how the last pair differed."""
    found = ""
    for _ in range(ATTEMPTS):
        answered = control_sockets.answer(argv, OBSERVE_TIMEOUT)
        spawned = _spawned(argv)
        if answered is None:
            return f"{' '.join(argv)}: not answered over the socket"
        if answered.returncode != spawned.returncode:
            found = f"{' '.join(argv)}: exit {answered.returncode}, spawned {spawned.returncode}"
        elif _masked(answered.stdout) != _masked(spawned.stdout):
            found = (f"{' '.join(argv)}: output differs at "
                     f"{_first_line_apart(_masked(answered.stdout), _masked(spawned.stdout))}")
        else:
            return ""
    return found


def test_socket_answer_equals_the_spawned_programs(reads) -> None:
    differences = [found for argv in _with_extras(reads) if (found := _difference(argv))]
    assert differences == []
