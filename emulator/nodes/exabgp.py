"""ExaBGP as the AS8075 speaker of a Microsoft edge router, with the edge agent as its API process:
its configuration and environment (the embedded runtime runs one per edge, emulator.nodes.edge_bgp;
containerlab's edge one per link and one to the internet, emulator.runtime.containerlab.edge)."""
from __future__ import annotations

import sys
from pathlib import Path

from emulator.edge.agent import AgentConfig
from emulator.plan.model import BgpSession, Lag, Node, Plan


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


def neighbor(plan: Plan, node: Node, session: BgpSession, extra: list[str]) -> list[str]:
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
        # RFC 2385: ExaBGP sets the key on its own socket and its listener's (TCP_MD5SIG).
        *([f'  md5-password "{session.md5_key}";'] if session.md5_key else []),
        "  family {", f"    {family} unicast;", "  }",
        *extra,
        "  announce {", f"    {family} {{",
        *[f"      unicast {p} next-hop self;" for p in prefixes],
        "    }", "  }", "}", "",
    ]


def render(plan: Plan, node: Node, lag: Lag, agent_config: Path | str,
           python: str = sys.executable) -> str:
    """One ExaBGP for one interconnect link, started once its LAG is up (containerlab's edge)."""
    lines = ["process agent {", f"  run {python} -m emulator.edge.agent {agent_config};",
             "  encoder json;", "}", ""]
    for session in plan.sessions_of(node.name):
        if session.b_node == node.name and session.lag == lag.name:
            lines += neighbor(plan, node, session, AGENT_API)
    return "\n".join(lines)


def render_internet(plan: Plan, node: Node) -> str:
    """The edge's sessions to the internet: Microsoft's prefixes, nothing learned from a peer
    (the page's FAQ: Microsoft does not re-advertise the peer's prefixes)."""
    lines: list[str] = []
    for session in plan.sessions_of(node.name):
        if session.lag is None and session.a_node == node.name:
            lines += neighbor(plan, node, session, [])
    return "\n".join(lines)


def environment(bind: list[str], log: Path) -> dict[str, str]:
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
