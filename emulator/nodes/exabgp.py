"""ExaBGP as the AS8075 speaker of a Microsoft edge router, with the edge agent as its API process."""
from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

from emulator.edge.agent import AgentConfig
from emulator.plan.model import BgpSession, Lag, Node, Plan
from emulator.nodes.base import Host as Runtime


# consolidate: each message's raw header and body beside the parsed JSON, so that the agent
# judges from the wire what ExaBGP's parsing hides (emulator.edge.received).
AGENT_API = ["  api {", "    processes [ agent ];", "    neighbor-changes;",
             "    receive { parsed; consolidate; update; notification; }", "  }"]


# ExaBGP's reactor sleeps speed/100 s between loops when no socket is ready (exabgp.reactor.loop):
# the default 1.0 wakes it 100 times a second in an idle lab. At 5.0 it sleeps 50 ms; a socket or
# API pipe that is ready still wakes it at once, and keepalives (1 s and more) keep their time.
REACTOR_SPEED = "5.0"
# A link's neighbors listen on their own address (ExaBGP binds it when the configuration that
# names the neighbor is loaded): no socket on port 179 before the edge configured BGP.
LISTEN = ["  listen 179;"]


def _neighbor(plan: Plan, node: Node, session: BgpSession, extra: list[str]) -> list[str]:
    """One neighbor block announcing the Microsoft prefixes of the session's family."""
    mine = "a" if session.a_node == node.name else "b"
    theirs = "b" if mine == "a" else "a"
    family = session.family
    prefixes = [p for p in plan.microsoft_prefixes if (":" in p) == (family == "ipv6")]
    return [
        f"neighbor {getattr(session, f'{theirs}_address')} {{",
        f"  description \"{getattr(session, f'{theirs}_node')} {session.name}\";",
        f"  router-id {node.router_id};",
        f"  local-address {getattr(session, f'{mine}_address')};",
        f"  local-as {getattr(session, f'{mine}_asn')};",
        f"  peer-as {getattr(session, f'{theirs}_asn')};",
        f"  hold-time {plan.timers.hold};",
        "  family {", f"    {family} unicast;", "  }",
        *extra,
        "  announce {", f"    {family} {{",
        *[f"      unicast {p} next-hop self;" for p in prefixes],
        "    }", "  }", "}", "",
    ]


def render(plan: Plan, node: Node, lag: Lag, agent_config: Path | str,
           python: str = sys.executable, neighbors: bool = True, listen: bool = False) -> str:
    """One ExaBGP per interconnect link, so that each link's BGP is gated on its own LAG.
    neighbors=False: the speaker started ahead of the LAG, with its agent and no BGP at all."""
    lines = ["process agent {", f"  run {python} -m emulator.edge.agent {agent_config};",
             "  encoder json;", "}", ""]
    for session in plan.sessions_of(node.name) if neighbors else ():
        if session.b_node == node.name and session.lag == lag.name:
            lines += _neighbor(plan, node, session, AGENT_API + (LISTEN if listen else []))
    return "\n".join(lines)


def render_internet(plan: Plan, node: Node) -> str:
    """The edge's sessions to the internet: Microsoft's prefixes, nothing learned from a peer
    (the page's FAQ: Microsoft does not re-advertise the peer's prefixes)."""
    lines: list[str] = []
    for session in plan.sessions_of(node.name):
        if session.lag is None and session.a_node == node.name:
            lines += _neighbor(plan, node, session, [])
    return "\n".join(lines)


def _environment(bind: list[str], log: Path) -> dict[str, str]:
    return {
        "exabgp_daemon_user": "root",
        "exabgp_daemon_drop": "false",
        "exabgp_api_cli": "false",
        # Listen on the session addresses too, so a restarted peer is accepted at once instead
        # of waiting out ExaBGP's reconnect back-off.
        "exabgp_tcp_bind": " ".join(bind),
        "exabgp_reactor_speed": REACTOR_SPEED,
        "exabgp_log_destination": str(log),
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }


def _spawn(runtime: Runtime, node: Node, d: Path, env: dict[str, str]) -> int:
    # ExaBGP with the edge's parser rule (RFC 4271 6.3, emulator.edge.speaker).
    argv = [sys.executable, "-m", "emulator.edge.speaker", "server", str(d / "exabgp.conf")]
    pid = runtime.spawn(node.name, argv, d / "exabgp.out", env=env)
    (d / "exabgp.pid").write_text(f"{pid}\n")
    return pid


def start_internet(runtime: Runtime, plan: Plan, node: Node, d: Path) -> int:
    (d / "exabgp.conf").write_text(render_internet(plan, node))
    addresses = [s.a_address for s in plan.sessions_of(node.name)
                 if s.lag is None and s.a_node == node.name]
    return _spawn(runtime, node, d, _environment(addresses, d / "exabgp.log"))


def local_addresses(plan: Plan, lag: Lag) -> list[str]:
    return [s.b_address for s in plan.sessions if s.lag == lag.name]


def agent_config(plan: Plan, node: Node, lag: Lag, run_dir: str, events_file: str) -> AgentConfig:
    """What the edge agent of one link needs to know: the peering's registrations and limits."""
    return AgentConfig(node=node.name, lag=lag.name, routes_file=f"{run_dir}/routes.json",
                       events_file=events_file, registered_asns=list(plan.registered_asns),
                       activated_prefixes=list(plan.activated_prefixes),
                       max_prefix=plan.edge_max_prefix,
                       peering_file=str(Path(events_file).with_name("peering.json")),
                       microsoft_prefixes=list(plan.microsoft_prefixes))


def start(runtime: Runtime, plan: Plan, node: Node, lag: Lag, d: Path, events_file: Path) -> int:
    config = agent_config(plan, node, lag, str(d), str(events_file))
    (d / "agent.json").write_text(json.dumps(config.__dict__))
    (d / "exabgp.conf").write_text(render(plan, node, lag, d / "agent.json"))
    return _spawn(runtime, node, d, _environment(local_addresses(plan, lag), d / "exabgp.log"))


def prestart(runtime: Runtime, plan: Plan, node: Node, lag: Lag, d: Path,
             events_file: Path) -> int:
    """The link's ExaBGP and agent, started ahead of its LAG with no neighbor and no listening
    socket: Python and ExaBGP take most of a second to start, the LAG a fraction of one. The
    edge still configures BGP only after the LAG is up (`configure`)."""
    config = agent_config(plan, node, lag, str(d), str(events_file))
    (d / "routes.json").unlink(missing_ok=True)
    (d / "agent.json").write_text(json.dumps(config.__dict__))
    (d / "exabgp.conf").write_text(render(plan, node, lag, d / "agent.json", neighbors=False))
    return _spawn(runtime, node, d, _environment([], d / "exabgp.log"))


def ready(d: Path) -> bool:
    """A prestarted speaker loaded its configuration and started its agent (whose first act
    is to write routes.json): its signal handlers are in place."""
    return (d / "routes.json").exists()


def running_pid(d: Path) -> int | None:
    """The pid of the link's ExaBGP when it runs (this machine's processes), else None."""
    try:
        pid = int((d / "exabgp.pid").read_text().split()[0])
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (OSError, ValueError, IndexError):
        return None
    return pid if str(d / "exabgp.conf").encode() in cmdline else None


def configure(plan: Plan, node: Node, lag: Lag, d: Path, pid: int) -> None:
    """Give a running speaker the link's neighbors: the configuration with them, then SIGUSR1
    (ExaBGP reloads its configuration and keeps its API process)."""
    tmp = d / "exabgp.conf.tmp"
    tmp.write_text(render(plan, node, lag, d / "agent.json", listen=True))
    os.replace(tmp, d / "exabgp.conf")
    os.kill(pid, signal.SIGUSR1)



def stop(pid: int) -> None:
    """SIGKILL a speaker that never became ready (it may be gone already)."""
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass
