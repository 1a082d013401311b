"""One ExaBGP per Microsoft edge router: its sessions to the internet and, link by link, its
sessions to the peer, each link with its own edge agent.

The speaker starts with the edge (its agents and its internet sessions; no neighbor of the peer's
and no socket listening for one). The edge automation gives it a link's neighbors once that
link's LAG is up ("After the LAG comes up, our automated process configures BGP"): the
configuration is rendered again and ExaBGP reloads it (SIGUSR1; unchanged neighbors keep their
sessions, new ones start, removed ones are torn down with a Cease). What the configuration says
is kept beside it, in the speaker's state:

  nodes/<edge>/exabgp/      exabgp.conf, exabgp.pid, exabgp.log, state.json
  nodes/<edge>/<lag ifname> agent.json, routes.json (one edge agent per link)

A Python program and ExaBGP take most of a second of CPU to start; one per edge instead of one
per link and one more to the internet halves what a lab spends starting and idling them.
"""
from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from emulator.core import wait
from emulator.nodes import exabgp
from emulator.nodes.base import Host as Runtime
from emulator.plan.model import Lag, Node, Plan

DIR = "exabgp"
# One lock per edge: its links are configured side by side (one thread per LAG), and each
# change rewrites the speaker's state and configuration whole.
_LOCKS: dict[Path, threading.RLock] = {}
_LOCKS_GUARD = threading.Lock()


def lock(node_dir: Path) -> threading.RLock:
    with _LOCKS_GUARD:
        return _LOCKS.setdefault(node_dir, threading.RLock())


@dataclass
class SpeakerState:
    """What the speaker's configuration holds besides the plan."""

    links: list[str] = field(default_factory=list)    # LAGs whose BGP the edge configured
    # Scenario overrides of what is announced (None: the plan's Microsoft prefixes).
    internet: list[str] | None = None
    link_prefixes: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def read(cls, node_dir: Path) -> "SpeakerState":
        try:
            data = json.loads((node_dir / DIR / "state.json").read_text())
            return cls(list(data.get("links", [])), data.get("internet"),
                       dict(data.get("link_prefixes", {})))
        except (OSError, ValueError, AttributeError):
            return cls()

    def write(self, node_dir: Path) -> None:
        d = node_dir / DIR
        tmp = d / "state.json.tmp"
        tmp.write_text(json.dumps(asdict(self)))
        os.replace(tmp, d / "state.json")


def process_name(lag: Lag) -> str:
    return f"agent-{lag.ifname}"


def _agent_api(lag: Lag) -> list[str]:
    # consolidate: each message's raw header and body beside the parsed JSON, so that the agent
    # judges from the wire what ExaBGP's parsing hides (emulator.edge.received).
    return ["  api {", f"    processes [ {process_name(lag)} ];", "    neighbor-changes;",
            "    receive { parsed; consolidate; update; notification; }", "  }"]


def render(plan: Plan, node: Node, node_dir: Path, state: SpeakerState,
           python: str = sys.executable) -> str:
    """The edge's whole configuration: an agent per link, the internet sessions, and the
    neighbors of every link the edge configured (listening on their own address)."""
    lines: list[str] = []
    for lag in plan.lags_of(node.name):
        lines += [f"process {process_name(lag)} {{",
                  f"  run {python} -m emulator.edge.agent {node_dir / lag.ifname / 'agent.json'};",
                  "  encoder json;", "}", ""]
    internet = plan if state.internet is None else replace(
        plan, microsoft_prefixes=tuple(state.internet))
    for session in plan.sessions_of(node.name):
        if session.lag is None and session.a_node == node.name:
            lines += exabgp.neighbor(internet, node, session, [])
    for lag in plan.lags_of(node.name):
        if lag.name not in state.links:
            continue
        own = state.link_prefixes.get(lag.name)
        announced = plan if own is None else replace(plan, microsoft_prefixes=tuple(own))
        for session in plan.sessions_of(node.name):
            if session.b_node == node.name and session.lag == lag.name:
                lines += exabgp.neighbor(announced, node, session,
                                         _agent_api(lag) + exabgp.LISTEN)
    return "\n".join(lines)


def internet_addresses(plan: Plan, node: Node) -> list[str]:
    return [s.a_address for s in plan.sessions_of(node.name)
            if s.lag is None and s.a_node == node.name]


def runs_one(plan: Plan, node: Node) -> bool:
    """An edge with a link to the peer or a session to the internet runs a speaker."""
    return bool(plan.lags_of(node.name) or plan.links_of(node.name))


def pid_file(node_dir: Path) -> Path:
    return node_dir / DIR / "exabgp.pid"


def _write(plan: Plan, node: Node, node_dir: Path, state: SpeakerState) -> None:
    d = node_dir / DIR
    state.write(node_dir)
    tmp = d / "exabgp.conf.tmp"
    tmp.write_text(render(plan, node, node_dir, state))
    os.replace(tmp, d / "exabgp.conf")


def start(runtime: Runtime, plan: Plan, node: Node, node_dir: Path, events_file: Path) -> int:
    """The edge's speaker with its agents and internet sessions, no link configured yet."""
    (node_dir / DIR).mkdir(parents=True, exist_ok=True)
    for lag in plan.lags_of(node.name):
        d = node_dir / lag.ifname
        d.mkdir(parents=True, exist_ok=True)
        config = exabgp.agent_config(plan, node, lag, str(d), str(events_file))
        (d / "routes.json").unlink(missing_ok=True)
        (d / "agent.json").write_text(json.dumps(config.__dict__))
    _write(plan, node, node_dir, SpeakerState())
    d = node_dir / DIR
    argv = [sys.executable, "-m", "emulator.edge.speaker", "server", str(d / "exabgp.conf")]
    env = exabgp.environment(internet_addresses(plan, node), d / "exabgp.log")
    pid = runtime.spawn(node.name, argv, d / "exabgp.out", env=env)
    pid_file(node_dir).write_text(f"{pid}\n")
    return pid


def running_pid(node_dir: Path) -> int | None:
    """The speaker's pid while it runs (this machine's processes), else None."""
    try:
        pid = int(pid_file(node_dir).read_text().split()[0])
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError, IndexError):
        return None
    return pid if str(node_dir / DIR / "exabgp.conf").encode() in cmdline else None


def ready(plan: Plan, node: Node, node_dir: Path) -> bool:
    """The speaker loaded its configuration and started every agent (each agent's first act is
    to write its routes.json): its signal handlers are in place."""
    return all((node_dir / lag.ifname / "routes.json").exists()
               for lag in plan.lags_of(node.name))


# What ExaBGP logs at the end of every reload (exabgp.reactor.loop Reactor.reload), done or not.
RELOADED = ("loaded new configuration successfully", "could not load/reload configuration")


def _reloaded_since(log: Path, offset: int) -> bool:
    try:
        with log.open("rb") as f:
            f.seek(offset)
            text = f.read().decode(errors="replace")
    except OSError:
        return False
    return any(marker in text for marker in RELOADED)


# Seconds between SIGUSR1s while ExaBGP has not said it reloaded. ExaBGP 5.0.15 drops a reload
# asked for while an Established peer still has updates to send (exabgp.reactor.loop Reactor.run
# re-arms the signal, then skips the reload when _pending_adjribout() is true), and ignores one
# that comes while it handles the one before: the edge asks again until the reload is done.
RELOAD_RESEND = 1.0


def _reload(node_dir: Path) -> None:
    """SIGUSR1, then wait until ExaBGP says it reloaded, asking again every RELOAD_RESEND
    seconds until it does (a reload of the same configuration changes nothing). One reload at
    a time (the edge's lock), each waited for, so none is lost."""
    pid = running_pid(node_dir)
    if pid is None:
        raise ProcessLookupError(f"no ExaBGP running for {node_dir.name}")
    log = node_dir / DIR / "exabgp.log"
    offset = log.stat().st_size if log.exists() else None
    os.kill(pid, signal.SIGUSR1)
    if offset is None:
        return                      # no log to read (not a speaker the lab started)
    asked = [time.monotonic()]

    def reloaded() -> bool:
        if _reloaded_since(log, offset):
            return True
        if time.monotonic() - asked[-1] >= RELOAD_RESEND:
            os.kill(pid, signal.SIGUSR1)
            asked.append(time.monotonic())
        return False

    wait.until("speaker_reload", reloaded,
               lambda done: "" if done else f"{node_dir.name}: ExaBGP (pid {pid}) has not "
               f"reloaded its configuration yet, asked {len(asked)} times ({log})")


def set_link(plan: Plan, node: Node, node_dir: Path, lag: Lag, configured: bool) -> None:
    """Add (the edge configured BGP) or remove a link's neighbors, and reload."""
    with lock(node_dir):
        state = SpeakerState.read(node_dir)
        links = [name for name in state.links if name != lag.name] + (
            [lag.name] if configured else [])
        _write(plan, node, node_dir, replace(state, links=links))
        _reload(node_dir)


def announce(plan: Plan, node: Node, node_dir: Path, *, internet: tuple[str, ...] | None = None,
             link: Lag | None = None, prefixes: tuple[str, ...] | None = None) -> None:
    """What the edge announces to the internet (internet=...) or on one link (link=, prefixes=);
    None puts the plan's Microsoft prefixes back. ExaBGP reloads and sends the difference."""
    with lock(node_dir):
        state = SpeakerState.read(node_dir)
        if link is None:
            state = replace(state, internet=None if internet is None else list(internet))
        else:
            own = dict(state.link_prefixes)
            own.pop(link.name, None)
            if prefixes is not None:
                own[link.name] = list(prefixes)
            state = replace(state, link_prefixes=own)
        _write(plan, node, node_dir, state)
        _reload(node_dir)


def stop(node_dir: Path) -> bool:
    """SIGKILL the speaker (its agents end with their input); whether it was running."""
    pid = running_pid(node_dir)
    pid_file(node_dir).unlink(missing_ok=True)
    if pid is None:
        return False
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        return False
    return True
