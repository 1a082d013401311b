"""The node agent: the lab's Python run inside a container, where the embedded runtime would run
it from the controller.

    python -m emulator.runtime.containerlab.node_agent edge SPEAKER.json
        One ExaBGP of a Microsoft edge. With a LAG: the edge automation first (the page: "After
        the LAG comes up, our automated process configures BGP"): wait until LACP collects and
        distributes on a member (read from /proc/net/bonding by emulator.runtime.lag.procfs),
        record lag-up, then replace itself with ExaBGP, environment as the embedded runtime's.
    python -m emulator.runtime.containerlab.node_agent start PROGRAM.json
        A router program started by its node kind's own start() (emulator.nodes), in this
        container, with the plan the controller rendered.

Events go to the lab's timeline through its one writer (emulator.core.events). Only the standard
library and the emulator package are imported: the images carry nothing else (the edge image adds
ExaBGP and pyroute2).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from emulator.core import events, wait
from emulator.core.errors import CommandFailed, WaitTimeout
from emulator.core.events import EventKind
from emulator.nodes import exabgp, registry
from emulator.plan import planfile
from emulator.runtime.lag import procfs
from emulator.runtime.lag.state import LagState


@dataclass(frozen=True)
class EdgeSpeaker:
    """One ExaBGP of a Microsoft edge, as the agent starts it (rendered as JSON beside its
    exabgp.conf). With a LAG it is gated on that LAG; without, it starts at once (internet)."""

    node: str
    conf: str                          # exabgp.conf
    bind: tuple[str, ...]              # the session addresses ExaBGP listens on too
    log: str                           # ExaBGP's log file
    exabgp: str                        # the ExaBGP program
    events_file: str
    lag: str | None = None
    ifname: str | None = None
    bonding: str | None = None         # the bond's /proc/net/bonding report

    @classmethod
    def read(cls, path: str | Path) -> EdgeSpeaker:
        data = json.loads(Path(path).read_text())
        return cls(**{**data, "bind": tuple(data["bind"])})

    def json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"


def _lag_diff(state: LagState) -> str:
    return "\n".join(f"{state.node} {state.ifname} {m.ifname}: enabled={m.enabled} "
                     f"collecting={m.collecting} distributing={m.distributing} ({m.detail})"
                     for m in state.members) or f"{state.node} {state.ifname}: no members yet"


def wait_for_lag(speaker: EdgeSpeaker, say: Callable[[str], None] = print,
                 rounds: int | None = None) -> LagState:
    """Poll the bond until a member collects and distributes (IEEE 802.1AX-2014 6.4.2.3).

    Like Microsoft's automation this waits as long as the LAG takes: when the lacp_setup budget
    runs out it records lag-timeout once, with the last state, and goes on waiting. rounds
    bounds the number of budgets (tests); None is no bound.
    """
    last = [""]

    def observe() -> LagState:
        state = procfs.read(speaker.node, str(speaker.ifname),
                            Path(speaker.bonding) if speaker.bonding else None)
        detail = _lag_diff(state)
        if not state.up and detail != last[0]:
            say(f"waiting for LACP on {speaker.ifname}: {detail}")
            last[0] = detail
        return state

    done = 0
    while True:
        try:
            return wait.until("lacp_setup", observe, lambda s: "" if s.up else _lag_diff(s))
        except WaitTimeout as exc:
            done += 1
            if done == 1:
                events.append(speaker.events_file, EventKind.LAG_TIMEOUT, node=speaker.node,
                              lag=speaker.lag, last=exc.diff, still_waiting=True)
            if rounds is not None and done >= rounds:
                raise


Exec = Callable[[str, Sequence[str], Mapping[str, str]], None]


def run_edge(speaker: EdgeSpeaker, execve: Exec = os.execve,
             say: Callable[[str], None] = print, rounds: int | None = None) -> None:
    """Gate on the LAG if there is one, then replace this process with ExaBGP."""
    if speaker.lag is not None:
        seen = wait_for_lag(speaker, say, rounds)
        say(f"LAG {speaker.lag} up: {seen.members_up} member(s) collecting and distributing")
        events.append(speaker.events_file, EventKind.LAG_UP, node=speaker.node, lag=speaker.lag,
                      members_up=seen.members_up, observed=seen.observed_at)
    env = {**os.environ, **exabgp.environment(list(speaker.bind), Path(speaker.log))}
    if speaker.lag is not None:
        events.append(speaker.events_file, EventKind.BGP_CONFIGURED, node=speaker.node,
                      lag=speaker.lag, waited_for_lacp=True)
    sys.stdout.flush()
    execve(speaker.exabgp, [speaker.exabgp, "server", speaker.conf], env)


class InContainer:
    """emulator.nodes.base.Host for the container the agent runs in: its node is this one."""

    def run(self, node: str, argv: Sequence[str], check: bool = True,
            timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout,
                                stdin=subprocess.DEVNULL)
        if check and result.returncode != 0:
            raise CommandFailed(list(argv), result.returncode, result.stderr or result.stdout)
        return result

    def spawn(self, node: str, argv: Sequence[str], log: Path,
              env: Mapping[str, str] | None = None) -> int:
        # A session of its own: the program outlives the agent and start.sh (tini reaps it).
        with open(log, "ab") as out:
            process = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=out,
                                       stderr=subprocess.STDOUT, start_new_session=True,
                                       env={**os.environ, **(env or {})})
        return process.pid


def start_program(instructions: Mapping[str, object], host: InContainer | None = None) -> None:
    """Copy the node's configuration byte for byte into its directory (as
    emulator.nodes.config.install does), then run the node kind's start() here."""
    plan = planfile.from_dict(instructions["plan"])            # type: ignore[arg-type]
    node = plan.node(str(instructions["node"]))
    d = Path(str(instructions["dir"]))
    d.mkdir(parents=True, exist_ok=True)
    kind = registry.kind_of(node)
    shutil.copyfile(str(instructions["config"]), d / kind.config_name)
    kind.start(host or InContainer(), plan, node, d)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emulator.runtime.containerlab.node_agent",
                                     description="The lab's Python inside a containerlab node.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("edge", help="one ExaBGP of an edge, gated on its LAG").add_argument("speaker")
    sub.add_parser("start", help="a router program, by its node kind").add_argument("program")
    args = parser.parse_args(argv)
    if args.command == "edge":
        run_edge(EdgeSpeaker.read(args.speaker), say=lambda line: print(line, flush=True))
    else:
        start_program(json.loads(Path(args.program).read_text()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
