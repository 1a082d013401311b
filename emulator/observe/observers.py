"""Observers: read LAG and BGP state from a running lab into typed, timestamped values.

Observers never judge; emulator.judge.checks does.
"""
from __future__ import annotations

import json
import re
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from emulator.nodes import bird, frr
from emulator.runtime.lag.state import LagState
from emulator.plan.model import BgpSession, Plan, Role


@dataclass(frozen=True)
class SessionState:
    session: str
    family: str
    node: str               # the side that reported it
    peer_node: str
    peer_address: str
    state: str              # RFC 4271 8.2.2 states; Established when up
    prefixes_received: int
    interconnect: bool
    observed_at: float

    @property
    def established(self) -> bool:
        return self.state == "Established"


@dataclass(frozen=True)
class EdgeRoutes:
    """What one edge agent holds: per peer address, prefix → route with its verdict."""

    node: str
    lag: str
    peers: dict[str, dict[str, dict[str, object]]] = field(default_factory=dict)

    def prefixes(self) -> set[str]:
        return {p for routes in self.peers.values() for p in routes}


VTYSH_TIMEOUT = 3.0      # a hung bgpd must not hang `status` or `check`


class NotAnswering(dict):
    """What a daemon that did not answer in time gave: nothing, marked as such."""


def _vtysh_json(d: Path, command: str) -> dict:
    try:
        result = subprocess.run(frr.vtysh(d, command), capture_output=True, text=True,
                                timeout=VTYSH_TIMEOUT)
    except subprocess.TimeoutExpired:
        return NotAnswering()
    try:
        return json.loads(result.stdout) if result.returncode == 0 else {}
    except ValueError:
        return {}


def frr_sessions(plan: Plan, node: str, d: Path) -> list[SessionState]:
    summary = _vtysh_json(d, "show bgp summary json")
    now = time.time()
    peers: dict[str, dict] = {}
    for key in ("ipv4Unicast", "ipv6Unicast"):
        peers.update(summary.get(key, {}).get("peers", {}))
    states = []
    for session in plan.sessions_of(node):
        address, peer_node = _far_end(session, node)
        peer = peers.get(address, {})
        if isinstance(summary, NotAnswering):
            state = "NotAnswering"      # bgpd did not answer within VTYSH_TIMEOUT
        else:
            state = peer.get("state", "Unknown" if not summary else "Idle")
        states.append(SessionState(session.name, session.family, node, peer_node, address,
                                   state,
                                   int(peer.get("pfxRcd", 0) or 0), session.interconnect, now))
    return states


_BIRD_PROTO = re.compile(r"^(\S+)\s+BGP\s+\S+\s+(\S+)\s+\S+\s*(\S*)", re.M)


def bird_sessions(plan: Plan, node: str, d: Path) -> list[SessionState]:
    try:
        result = subprocess.run(bird.birdc(d, "show protocols"), capture_output=True, text=True,
                                timeout=VTYSH_TIMEOUT)
    except subprocess.TimeoutExpired:
        result = subprocess.CompletedProcess([], 1, "", "")
    now = time.time()
    found = {m.group(1): (m.group(2), m.group(3)) for m in _BIRD_PROTO.finditer(result.stdout)}
    states = []
    for session in plan.sessions_of(node):
        address, peer_node = _far_end(session, node)
        proto = bird.protocol_name(peer_node, session.family)
        status, info = found.get(proto, ("down", "Unknown"))
        state = info if status == "up" else (info or "Idle")
        states.append(SessionState(session.name, session.family, node, peer_node, address,
                                   state, 0, session.interconnect, now))
    return states


def _far_end(session: BgpSession, node: str) -> tuple[str, str]:
    if session.a_node == node:
        return session.b_address, session.b_node
    return session.a_address, session.a_node


_BIRD_ROUTE = re.compile(r"^([0-9a-f.:]+/\d+)\s", re.M)


def bird_prefixes(d: Path) -> set[str]:
    """The prefixes in a BIRD speaker's tables (both families)."""
    found: set[str] = set()
    for table in ("master4", "master6"):
        try:
            result = subprocess.run(bird.birdc(d, f"show route table {table}"),
                                    capture_output=True, text=True, timeout=VTYSH_TIMEOUT)
        except subprocess.TimeoutExpired:
            continue
        found |= set(_BIRD_ROUTE.findall(result.stdout))
    return found


def edge_routes(plan: Plan, node_dir) -> list[EdgeRoutes]:
    """Every edge agent's current routes, one per interconnect LAG."""
    found = []
    for lag in plan.lags:
        path = node_dir(lag.b_node) / lag.ifname / "routes.json"
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            data = {}
        found.append(EdgeRoutes(lag.b_node, lag.name, data.get("peers", {})))
    return found


def all_sessions(plan: Plan, node_dir) -> list[SessionState]:
    """Sessions as the peer side sees them (FRR on peer routers, BIRD on members)."""
    states: list[SessionState] = []
    for node in plan.nodes:
        if node.role is Role.PEER_ROUTER:
            states += frr_sessions(plan, node.name, node_dir(node.name))
        elif node.role in (Role.MEMBER, Role.INTERNET):
            states += bird_sessions(plan, node.name, node_dir(node.name))
    return states


def microsoft_prefix_count(plan: Plan, node: str, d: Path) -> dict[str, int]:
    """How many of the Microsoft prefixes the peer router holds, per family."""
    counts = {}
    wanted = set(plan.microsoft_prefixes)
    for family in ("ipv4", "ipv6"):
        table = _vtysh_json(d, f"show bgp {family} unicast json")
        routes = table.get("routes", {})
        counts[family] = sum(1 for prefix in routes if prefix in wanted)
    return counts


@dataclass(frozen=True)
class LagObservation:
    lag: str
    peer_side: LagState
    edge_side: LagState


def lags(plan: Plan, driver) -> list[LagObservation]:
    """Both sides of every LAG; one read per router where the driver can (observe_node)."""
    seen: dict[tuple[str, str], LagState] = {}
    for node in dict.fromkeys(n for lag in plan.lags for n in (lag.a_node, lag.b_node)):
        own = list(plan.lags_of(node))
        if hasattr(driver, "observe_node"):
            states = driver.observe_node(node, own)
        else:
            states = [driver.observe(node, lag) for lag in own]
        for lag, state in zip(own, states):
            seen[(lag.name, node)] = state
    return [LagObservation(lag.name, seen[(lag.name, lag.a_node)], seen[(lag.name, lag.b_node)])
            for lag in plan.lags]


@dataclass(frozen=True)
class PeerDevice:
    """What the page forbids on the device that terminates peering, as seen in its namespace."""

    node: str
    conntrack_rules: tuple[str, ...]     # nftables rules matching on connection state
    rate_limits: tuple[str, ...]         # shapers and policers on interconnect interfaces


_CT_RULE = re.compile(r"^\s*(.*\bct (state|status|mark|helper)\b.*)$", re.M)
# Queueing disciplines and actions that shape or police (tc-tbf(8), tc-htb(8), tc-police(8)).
_LIMITERS = re.compile(r"\b(tbf|htb|cbq|hfsc|police|cake)\b")


def peer_device(runtime, plan: Plan, node: str) -> PeerDevice:
    ruleset = runtime.run(node, ["nft", "list", "ruleset"], check=False).stdout
    conntrack = tuple(m.group(1).strip() for m in _CT_RULE.finditer(ruleset))
    interfaces = [lag.ifname for lag in plan.lags_of(node)]
    interfaces += [m.a_ifname for lag in plan.lags_of(node) for m in lag.members]
    limits = []
    for ifname in interfaces:
        for what in (["qdisc", "show", "dev", ifname], ["filter", "show", "dev", ifname, "ingress"],
                     ["filter", "show", "dev", ifname, "egress"]):
            out = runtime.run(node, ["tc", *what], check=False).stdout
            limits += [f"{ifname}: {line.strip()}" for line in out.splitlines()
                       if _LIMITERS.search(line)]
    return PeerDevice(node, conntrack, tuple(limits))
