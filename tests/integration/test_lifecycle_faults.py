"""Lifecycle under hard faults: the controller killed at every step of `up`, two labs at once,
a crashed daemon. Nothing is ever left behind, and no command hangs.

"Nothing left behind" is checked on everything a lab could leave on the host: its namespaces,
processes (in its namespaces, or naming its directory or namespaces in their command line or
environment), veths in the host namespace, Open vSwitch state (daemons, and the system
directories of Open vSwitch and FRR), and files outside the lab's directory: any file created
during the test that a lab process held open outside the lab directory, and anything new in the
host's shared directories whose name carries the lab's name.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from pyroute2 import IPRoute

from emulator.judge import harness
from emulator.lab import lifecycle as lab_module
from emulator.core.labdir import LabDir
from emulator.plan.resolve import recorded_plan
from emulator.runtime.netns import NETNS_DIR, lab_namespaces
from tests.integration.conftest import topology_copy
from tests.integration.progress import lines_until

pytestmark = pytest.mark.integration
MAPSLAB = str(Path(sys.executable).with_name("mapslab"))
STEP = re.compile(r"^\[\s*\d+\.\d+s\] (.+)$")
UP_BUDGET = 120.0          # one `mapslab up` of the one-location lab, with room for a busy host
COMMAND_BUDGET = 30.0      # `mapslab status`, `check` or `down` of a one-location lab
# Progress lines of `up` (emulator.lab.lifecycle) and what is recorded before each is printed.
STEP_NODES = "nodes (network namespaces)"            # state, lab-created, every namespace
STEP_LAGS = "LAGs configured"                        # the LAG driver
STEP_DAEMONS = "on peer routers"                     # every FRR router's zebra socket
STEP_EDGES = "the edge automation configured BGP"    # lag-up and bgp-configured per LAG
STEP_PREFIXES = "Microsoft prefixes at every peer router"
# Directories of the host's own Open vSwitch and FRR: a lab keeps its daemons' files in its own
# directory and must never write here.
DAEMON_DIRS = (Path("/run/openvswitch"), Path("/etc/openvswitch"), Path("/var/lib/openvswitch"),
               Path("/var/log/openvswitch"), Path("/run/frr"), Path("/var/log/frr"),
               Path("/etc/frr"))
# Shared directories where a lab's name must never appear in anything new.
SHARED_DIRS = (Path("/tmp"), Path("/var/tmp"), Path("/run"), Path("/dev/shm"), NETNS_DIR)
# Not files: what an open descriptor may point at without being a file left on disk.
NOT_FILES = ("socket:", "pipe:", "anon_inode:", "/dev/", "/proc/", "/sys/", "net:", "mnt:")


# ---- what a lab leaves on the host ----

def host_links() -> set[str]:
    with IPRoute() as ipr:
        return {link.get_attr("IFLA_IFNAME") for link in ipr.get_links()}


def _entries(root: Path, depth: int = 2) -> set[str]:
    found: set[str] = set()
    if not root.is_dir():
        return found
    try:
        children = list(root.iterdir())
    except OSError:
        return found
    for child in children:
        found.add(str(child))
        if depth > 1 and child.is_dir() and not child.is_symlink():
            found |= _entries(child, depth - 1)
    return found


@dataclass(frozen=True)
class HostState:
    """The host as a lab could change it, taken before the lab exists."""

    taken: float
    links: frozenset[str]
    daemon_files: frozenset[str]
    shared_files: frozenset[str]

    @classmethod
    def take(cls) -> "HostState":
        return cls(time.time(), frozenset(host_links()),
                   frozenset(e for d in DAEMON_DIRS for e in _entries(d)),
                   frozenset(e for d in SHARED_DIRS for e in _entries(d)))

    def created_since(self, path: str) -> bool:
        """The path exists and was created after this state was taken (its birth time, from
        statx; a lab's process may well update a file that was there before, e.g. libuuid's
        clock)."""
        result = subprocess.run(["stat", "-c", "%W %Z", path], capture_output=True, text=True)
        if result.returncode != 0:
            return False
        birth, change = (int(x) for x in result.stdout.split())
        return (birth or change) >= int(self.taken) - 1


def _markers(name: str) -> tuple[str, ...]:
    return (str(LabDir(name).path) + "/", f"ml-{name}-", f"emulator.lab.monitor {name}")


def marked_processes(name: str) -> list[str]:
    """Processes whose command line or environment names the lab's directory or namespaces."""
    markers = [m.encode() for m in _markers(name)]
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ")
            environ = (entry / "environ").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if any(m in cmdline or m in environ for m in markers):
            found.append(f"process {entry.name}: {cmdline.decode(errors='replace')[:120]}")
    return found


def held_files(name: str) -> set[str]:
    """Files outside the lab directory that the lab's processes hold open right now."""
    labdir = str(LabDir(name).path) + "/"
    found: set[str] = set()
    for pid in lab_module.lab_processes(name):
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("/") and not target.startswith(labdir) \
                    and not target.startswith(NOT_FILES):
                found.add(target.removesuffix(" (deleted)"))
    return found


def leftovers(name: str, before: HostState, held: set[str] = frozenset()) -> list[str]:
    """Everything of the lab still on the host, relative to the host before it existed."""
    found = lab_module.leftovers(name)
    found += marked_processes(name)
    found += [f"host link {link}" for link in sorted(host_links() - before.links)]
    found += [f"Open vSwitch or FRR file {e}" for e in
              sorted({e for d in DAEMON_DIRS for e in _entries(d)} - before.daemon_files)]
    found += [f"file {e}" for e in sorted({e for d in SHARED_DIRS for e in _entries(d)}
                                          - before.shared_files)
              if any(m in e for m in (name, f"ml-{name}-"))]
    found += [f"file held by the lab {f}" for f in sorted(held) if before.created_since(f)]
    return sorted(set(found))


def mapslab(*args: str, timeout: float = COMMAND_BUDGET) -> subprocess.CompletedProcess[str]:
    return subprocess.run([MAPSLAB, *args], capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


# ---- the controller killed at every step ----

def recorded_progress(name: str, steps: list[str]) -> list[str]:
    """What the lab's own record (state, timeline, daemons' files) says is not so, if the
    controller got through `steps` (the progress lines it printed, in order) and no further
    than the convergence waits: each step's work is recorded before its line is printed."""
    labdir = LabDir(name)
    if not steps or not any(STEP_NODES in s for s in steps):
        return []                      # killed before anything is recorded
    if not labdir.exists():
        return [f"no state recorded after {steps[-1]!r}"]
    state = labdir.read_state()
    kinds = [e.get("kind") for e in labdir.events()]
    problems = []
    if "lab-created" not in kinds:
        problems.append("no lab-created event")
    if len(lab_namespaces(name)) != len(state.namespaces):
        problems.append(f"namespaces {lab_namespaces(name)}, recorded {state.namespaces}")
    if any(STEP_LAGS in s for s in steps) and not state.lag_driver:
        problems.append("LAGs configured but no LAG driver recorded")
    if any(STEP_DAEMONS in s for s in steps):
        # FRR's start waits for zebra's socket before it starts bgpd (emulator.nodes.frr)
        configs = list((labdir.path / "nodes").glob("*/bgpd.conf"))
        missing = [c.parent.name for c in configs if not (c.parent / "zserv.api").exists()]
        if not configs or missing:
            problems.append(f"routers started but no zebra socket for {missing or 'any router'}")
    if any(STEP_EDGES in s for s in steps):
        lags = len(recorded_plan(labdir).lags)
        for kind in ("lag-up", "bgp-configured"):
            if kinds.count(kind) < lags:
                problems.append(f"{kinds.count(kind)} {kind} event(s) for {lags} LAGs")
    finished = steps[-1].startswith("lab is up")
    if finished != (state.phase == "up") and (finished or not any(STEP_PREFIXES in s
                                                                  for s in steps)):
        problems.append(f"phase {state.phase!r} after {steps[-1]!r}")
    return problems


def kill_up(topology: Path, after_step: int | None,
            delay: float = 0.0) -> tuple[list[str], set[str], list[str]]:
    """Start `mapslab up`, stop it (SIGSTOP, its process group) once progress line number
    `after_step` has been printed (None: right after launch), `delay` seconds later; read where
    it stopped from the lab's own record, then SIGKILL it. Return the steps seen, the files the
    lab's processes held when it died, and what the record says against the steps seen."""
    proc = subprocess.Popen([MAPSLAB, "up", str(topology)], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, start_new_session=True,
                            stdin=subprocess.DEVNULL)
    name = topology.stem
    seen: list[str] = []
    landed: list[str] = []
    try:
        if after_step is not None:
            # The budget holds even if `up` prints nothing (a reader thread, not a per-line check).
            lines = lines_until(proc, lambda got: len(_steps(got)) > after_step, UP_BUDGET)
            seen = _steps(lines)
        time.sleep(delay)
        os.killpg(proc.pid, signal.SIGSTOP)
        if after_step is not None and delay == 0.0:
            landed = recorded_progress(name, seen)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        proc.stdout.close()
    return seen, held_files(name), landed


def _steps(lines: list[str]) -> list[str]:
    return [m.group(1) for m in map(STEP.match, lines) if m]


@pytest.fixture(scope="module")
def kill_lab(tmp_path_factory):
    name = "itkill2"
    lab_module.down(name)
    path = topology_copy(tmp_path_factory.mktemp("topo"), name)
    yield path
    lab_module.down(name)


@pytest.fixture(scope="module")
def every_step(kill_lab):
    """The progress steps of one complete `mapslab up`, each with its time."""
    before = HostState.take()
    held: set[str] = set()
    result = subprocess.run([MAPSLAB, "up", str(kill_lab)], capture_output=True, text=True,
                            timeout=UP_BUDGET, stdin=subprocess.DEVNULL)
    try:
        assert result.returncode == 0, result.stderr
        held = held_files(kill_lab.stem)
    finally:
        mapslab("down", kill_lab.stem)
    assert leftovers(kill_lab.stem, before, held) == []
    lines = [line for line in result.stdout.splitlines() if STEP.match(line)]
    steps = [(float(line[1:line.index("s]")]), STEP.match(line).group(1)) for line in lines]
    assert len(steps) >= 8, result.stdout
    return steps


def test_sigkill_after_every_step_then_down_then_a_fresh_up(kill_lab, every_step):
    """Kill after each progress line (and at launch): `down` removes everything, and a fresh
    `up` of the same lab then succeeds and is removed as completely."""
    name = kill_lab.stem
    problems = []
    for index in [None] + list(range(len(every_step))):
        label = "at launch" if index is None else f"after step {index + 1} {every_step[index][1]!r}"
        before = HostState.take()
        seen, held, landed = kill_up(kill_lab, index)
        if index is not None and len(seen) <= index:
            problems.append(f"killed {label}: `up` printed only {seen}")
        if index is not None and seen[-1:] != [every_step[index][1]]:
            problems.append(f"killed {label}: the last step seen was {seen[-1:]}")
        problems += [f"killed {label}: the lab's record: {p}" for p in landed]
        result = mapslab("down", name)
        left = leftovers(name, before, held)
        if result.returncode != 0 or left:
            problems.append(f"killed {label}: down exited {result.returncode} "
                            f"({result.stderr.strip()[-300:]}); left {left}")
            lab_module.down(name)
            continue
        fresh = mapslab("up", str(kill_lab), timeout=UP_BUDGET)
        held = held_files(name)
        if fresh.returncode != 0:
            problems.append(f"killed {label}: the fresh up exited {fresh.returncode}: "
                            f"{fresh.stderr.strip()[-500:]}")
        mapslab("down", name)
        left = leftovers(name, before, held)
        if left:
            problems.append(f"killed {label}: after the fresh up and down, left {left}")
    assert problems == []


def test_sigkill_inside_every_step_then_down(kill_lab, every_step):
    """Kill half-way between consecutive progress lines (as timed by a complete `up`), when
    the step's work is under way: `down` removes everything."""
    name = kill_lab.stem
    problems = []
    for index in range(len(every_step) - 1):
        (at, text), (after, _) = every_step[index], every_step[index + 1]
        if after - at < 0.02:
            continue          # nothing happens between these two lines
        before = HostState.take()
        _, held, _ = kill_up(kill_lab, index, delay=(after - at) / 2)
        result = mapslab("down", name)
        left = leftovers(name, before, held)
        if result.returncode != 0 or left:
            problems.append(f"killed inside the step after {text!r}: down exited "
                            f"{result.returncode}; left {left}")
            lab_module.down(name)
    assert problems == []


# ---- two labs at once ----

PAIR = ("itpaira", "itpairb")


def _interconnect_established(status: dict) -> int:
    return sum(1 for s in status["sessions"] if s["interconnect"] and s["state"] == "Established")


@pytest.mark.parametrize("round_", [1, 2, 3])
def test_two_labs_up_at_the_same_time(tmp_path, round_):
    """Two labs of different names, brought up and down concurrently, see only themselves."""
    for name in PAIR:
        lab_module.down(name)
    before = HostState.take()
    paths = [topology_copy(tmp_path, name) for name in PAIR]
    procs = [subprocess.Popen([MAPSLAB, "up", str(p)], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
             for p in paths]
    held: set[str] = set()
    try:
        outcomes = [proc.communicate(timeout=UP_BUDGET) for proc in procs]
        for name, proc, (out, err) in zip(PAIR, procs, outcomes):
            assert proc.returncode == 0, f"{name}: {err[-2000:]}"
        for name in PAIR:
            held |= held_files(name)
            status = mapslab("status", name, "--format", "json")
            assert status.returncode == 0, status.stderr
            report = json.loads(status.stdout)
            assert report["lab"] == name
            assert all(lag["peer_side"]["up"] and lag["edge_side"]["up"]
                       for lag in report["lags"]), report["lags"]
            assert _interconnect_established(report) == 4, report["sessions"]
            assert len(lab_namespaces(name)) == len(lab_module.open_lab(name).plan.nodes)
    finally:
        downs = [subprocess.Popen([MAPSLAB, "down", name], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, text=True) for name in PAIR]
        for proc in downs:
            proc.wait(timeout=COMMAND_BUDGET)
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert [proc.returncode for proc in downs] == [0, 0]
    for name in PAIR:
        assert leftovers(name, before, held) == [], name


# ---- a crashed daemon ----

@pytest.fixture(scope="module")
def crash_lab(tmp_path_factory):
    name = "itkill2d"
    lab_module.down(name)
    before = HostState.take()
    path = topology_copy(tmp_path_factory.mktemp("topo"), name)
    running = lab_module.up(path)
    running.close()
    held = held_files(name)
    try:
        yield running
    finally:
        lab_module.down(name)
        assert leftovers(name, before, held) == []


def _bounded(*args: str) -> subprocess.CompletedProcess[str]:
    """The command's result; a failure naming it when it did not answer within its budget
    (the budget is the subprocess's timeout: the only bound that holds)."""
    try:
        return mapslab(*args, timeout=COMMAND_BUDGET)
    except subprocess.TimeoutExpired:
        pytest.fail(f"`mapslab {' '.join(args)}` did not answer within {COMMAND_BUDGET:.0f} s")


def test_hung_bgpd_is_reported_by_status(crash_lab):
    """SIGSTOP a peer router's bgpd (a hung daemon): `status` and `check` still answer within
    their budget, and `status` reports that router's sessions as not answering."""
    name = crash_lab.plan.lab
    pid = int((crash_lab.node_dir("sea-pr2") / "bgpd.pid").read_text().split()[0])
    os.kill(pid, signal.SIGSTOP)
    try:
        status = _bounded("status", name, "--format", "json")
        check = _bounded("check", name)
    finally:
        os.kill(pid, signal.SIGCONT)
        harness.settle(crash_lab)      # the next test needs sea-pr2's sessions back
    assert status.returncode == 0, status.stderr[-2000:]
    assert check.returncode == 3, check.stdout + check.stderr[-2000:]
    sessions = json.loads(status.stdout)["sessions"]
    hung = [s for s in sessions if s["node"] == "sea-pr2"]
    assert hung and all(s["state"] == "NotAnswering" for s in hung), hung


def test_killed_bgpd_is_reported_by_status_and_check(crash_lab):
    """SIGKILL one peer router's bgpd: `status` and `check` answer within their budget and
    report that router's sessions as not Established, the other router's as Established."""
    name = crash_lab.plan.lab
    pid = int((crash_lab.node_dir("sea-pr1") / "bgpd.pid").read_text().split()[0])
    os.kill(pid, signal.SIGKILL)
    status = _bounded("status", name, "--format", "json")
    assert status.returncode == 0, status.stderr
    sessions = json.loads(status.stdout)["sessions"]
    crashed = [s for s in sessions if s["node"] == "sea-pr1"]
    assert crashed and not any(s["state"] == "Established" for s in crashed), crashed
    assert all(s["state"] == "Established" for s in sessions
               if s["node"] == "sea-pr2" and s["interconnect"]), sessions
    check = _bounded("check", name)
    assert check.returncode == 3, check.stdout + check.stderr
    mesh = next(line for line in check.stdout.splitlines() if "mesh-formed" in line)
    assert mesh.startswith("FAIL"), check.stdout
    assert "sea-1-a-v4 sea-pr1" in check.stdout, check.stdout
