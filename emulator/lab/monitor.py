"""The lab's monitor: polls LAG state and appends every change to the lab's timeline.

BGP state changes of the interconnect sessions are recorded by the edge agents as they happen
(ExaBGP neighbor-changes); polling FRR as well would cost a vtysh start-up per router per poll.

Runs as a process inside the lab's LAN-switch namespace (so `mapslab down` stops it with the
rest), from the end of `up` until the lab's directory is gone. It starts while the lab is still
coming up, so it reads the plan `up` wrote (planfile.FILE_NAME) and talks to Open vSwitch itself: no
topology loader, router readers or netlink library to import then.
"""
from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from typing import Any

from emulator.core.events import EventKind
from emulator.core.labdir import LabDir
from emulator.observe import lags as observe
from emulator.plan import planfile
from emulator.plan.model import Plan


INTERVAL = 0.3
# Each poll costs two unixctl calls per router with a LAG (measured: 0.4 ms wall, 0.15 ms CPU
# for both, against 11-17 ms for two ovs-appctl processes); big labs still poll less often so
# that the monitor and the vswitchd answering it stay a small share of a core.
SECONDS_PER_READ = 0.002


@dataclass
class Watched:
    """What the monitor needs of a lab: its plan, directory and LAG driver."""
    plan: Plan
    dir: LabDir
    driver: Any


def attach(name: str) -> Watched:
    """The lab from the plan `up` wrote when Open vSwitch carries its LAGs, else as any command
    opens it (emulator.lab.lifecycle.open_lab)."""
    labdir = LabDir(name)
    state = labdir.read_state()
    recorded = labdir.path / planfile.FILE_NAME
    if state.runtime == "netns" and state.lag_driver == "openvswitch" and recorded.exists():
        from emulator.runtime.lag.ovs import OvsLagDriver
        from emulator.runtime.netns import NetnsRuntime
        plan = planfile.from_dict(json.loads(recorded.read_text()))
        return Watched(plan, labdir, OvsLagDriver(NetnsRuntime(plan.lab), labdir.node))
    from emulator.lab.lifecycle import open_lab
    lab = open_lab(name)
    return Watched(lab.plan, lab.dir, lab.driver)


def interval(lab: Watched) -> float:
    routers = {n for lag in lab.plan.lags for n in (lag.a_node, lag.b_node)}
    return max(INTERVAL, SECONDS_PER_READ * 2 * len(routers))


def snapshot(lab: Watched) -> dict[tuple[EventKind, str, str], dict[str, object]]:
    """The state worth a timeline entry, keyed by what it describes."""
    state: dict[tuple[EventKind, str, str], dict[str, object]] = {}
    for obs in observe.lags(lab.plan, lab.driver):
        for side, lag_state in (("peer", obs.peer_side), ("edge", obs.edge_side)):
            state[(EventKind.LAG_STATE, obs.lag, side)] = {
                "lag": obs.lag, "side": side, "node": lag_state.node, "up": lag_state.up,
                "members_up": lag_state.members_up}
    return state


def run(name: str, max_seconds: float = 7 * 24 * 3600) -> int:
    lab = attach(name)
    last: dict[tuple[EventKind, str, str], dict[str, object]] = {}
    deadline = time.monotonic() + max_seconds
    pause = interval(lab)
    while lab.dir.exists() and time.monotonic() < deadline:
        started = time.monotonic()
        try:
            current = snapshot(lab)
        except Exception as exc:           # a daemon gone mid-read: record, keep watching
            lab.dir.event(EventKind.MONITOR_ERROR, error=str(exc)[:200])
            current = last
        for key, value in current.items():
            if last.get(key) != value:
                lab.dir.event(key[0], **value)
        last = current
        time.sleep(max(0.0, pause - (time.monotonic() - started)))
    return 0


if __name__ == "__main__":
    raise SystemExit(run(sys.argv[1]))
