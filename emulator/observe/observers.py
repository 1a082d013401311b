"""Observers: read LAG and BGP state from a running lab into typed, timestamped values.

Observers never judge; emulator.judge.checks does.
"""
from __future__ import annotations

import json
import re
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from emulator.nodes import bird, liveness, registry
from emulator.nodes.base import Host, RouterView, far_end, run_quietly
from emulator.observe import control_sockets
from emulator.observe.lags import LagObservation, lags  # noqa: F401 (observers' API)
from emulator.plan.model import Plan, Role

T = TypeVar("T")


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
    prefixes_sent: int | None = None    # where the program tells it (BIRD, FRR)

    @property
    def established(self) -> bool:
        return self.state == "Established"


@dataclass(frozen=True)
class EdgeRoute:
    """One route an edge agent holds, with the verdict of the page's policy (emulator.edge)."""

    peer: str                 # the peer router's session address it came from
    prefix: str
    as_path: tuple[int, ...]
    next_hop: str
    outcome: str              # optimized | not-optimized | rejected | discarded
    rule: str                 # MS-... rule id
    reason: str


@dataclass(frozen=True)
class EdgeRoutes:
    """What one edge agent holds: per peer address, prefix → route with its verdict, as the
    agent wrote it (routes.json); `routes()` gives them typed."""

    node: str
    lag: str
    peers: dict[str, dict[str, dict[str, object]]] = field(default_factory=dict)

    def prefixes(self) -> set[str]:
        return {p for routes in self.peers.values() for p in routes}

    def routes(self) -> list[EdgeRoute]:
        """Every route, by peer then prefix."""
        return [EdgeRoute(peer, prefix, tuple(int(a) for a in r.get("as_path", []) or ()),
                          str(r.get("next_hop", "")), str(r.get("outcome", "")),
                          str(r.get("rule", "")), str(r.get("reason", "")))
                for peer, table in sorted(self.peers.items())
                for prefix, r in sorted(table.items())]


class LocalHost:
    """Runs read-only commands on this machine: the programs' control sockets are files in the
    lab's directory, reachable from outside the nodes' namespaces."""

    def run(self, node: str, argv, check: bool = True, timeout: float = 30.0):
        # vtysh and birdc reads come off the programs' sockets, spawned only where those fail;
        # the budget is the whole read's (a daemon that hangs costs `timeout` once).
        started = time.monotonic()
        found = control_sockets.answer(argv, timeout)
        if found is not None:
            return found
        left = max(0.0, timeout - (time.monotonic() - started))
        return subprocess.run(list(argv), capture_output=True, text=True, timeout=left,
                              stdin=subprocess.DEVNULL, check=False)

    def spawn(self, node, argv, log, env=None) -> int:
        raise NotImplementedError("observers only read")

    def read_text(self, node: str, path: Path) -> str | None:
        try:
            return Path(path).read_text()
        except OSError:
            return None


LOCAL = LocalHost()


def read_text(host: Host, node: str, path: Path) -> str | None:
    """A file of a node's directory: read directly where the host offers it (this machine),
    else with `cat` in the node (a container's own files)."""
    reader = getattr(host, "read_text", None)
    return reader(node, path) if reader else run_quietly(host, node, ["cat", str(path)])
# The roles whose BGP sessions the lab reads from the router program itself.
OBSERVED_ROLES = (Role.PEER_ROUTER, Role.ROUTE_SERVER, Role.MEMBER, Role.INTERNET)


def router_view(plan: Plan, node: str, d: Path, host: Host = LOCAL) -> RouterView:
    """One read of a router program's neighbors, through its own interface."""
    spec = plan.node(node)
    return registry.kind_of(spec).observe(host, spec, d)


def node_sessions(plan: Plan, node: str, d: Path, host: Host = LOCAL,
                  view: RouterView | None = None) -> list[SessionState]:
    """The node's planned sessions as its router program reports them."""
    view = view if view is not None else router_view(plan, node, d, host)
    now = time.time()
    states = []
    # A program that says nothing may have stopped: then each session says which one did.
    gone = liveness.stopped(host, plan, node, d) if not view.neighbors else []
    for session in plan.sessions_of(node):
        address, peer_node, _ = far_end(session, node)
        neighbor = view.neighbor(address)
        if gone:
            # Its pid file names no live process.
            state = "+".join(dict.fromkeys(p.name for p in gone)) + " stopped"
        elif not view.answered:
            state = "NotAnswering"      # the program did not answer within OBSERVE_TIMEOUT
        elif neighbor is None:
            state = "Idle" if view.neighbors else "Unknown"
        else:
            state = neighbor.state
        count = 0 if neighbor is None else (neighbor.received if neighbor.received is not None
                                            else neighbor.accepted or 0)
        states.append(SessionState(session.name, session.family, node, peer_node, address,
                                   state, int(count or 0), session.interconnect, now,
                                   None if neighbor is None else neighbor.exported))
    return states


# Program.what of the processes that speak LACP for a router (the LAG driver's).
LACP = "LACP"


def lacp_programs(plan: Plan, node: str, driver, host: Host = LOCAL) -> list[liveness.Program]:
    """The processes that speak LACP for the node's LAGs (Open vSwitch's daemons; none for a
    kernel bond), running or not, from the LAG driver's pid files."""
    named = getattr(driver, "programs", None)
    if named is None or not plan.lags_of(node):
        return []
    return liveness.read(host, node, [(name, path, LACP) for name, path in named(node)])


def stopped_programs(plan: Plan, node_dir, host: Host = LOCAL,
                     driver=None) -> list[liveness.Program]:
    """Every program of the lab that was started and is gone (killed, crashed): the routers'
    own, and with the LAG driver given, the processes that speak LACP for them."""
    return [p for node in plan.nodes
            for p in (lacp_programs(plan, node.name, driver, host)
                      + liveness.programs(host, plan, node.name, node_dir(node.name)))
            if not p.running]


def edge_routes(plan: Plan, node_dir, host: Host = LOCAL) -> list[EdgeRoutes]:
    """Every edge agent's current routes, one per interconnect LAG: its routes.json, read where
    the edge's node directory is (through the host: a container's own files too)."""
    found = []
    for lag in plan.lags:
        path = node_dir(lag.b_node) / lag.ifname / "routes.json"
        try:
            data = json.loads(read_text(host, lag.b_node, path) or "{}")
        except ValueError:
            data = {}
        peers = data.get("peers", {}) if isinstance(data, dict) else {}
        found.append(EdgeRoutes(lag.b_node, lag.name, peers))
    return found


# Reads of different routers wait on different daemons: run them side by side, in plan order.
READERS = 8


def each_node(names: list[str], read: Callable[[str], T]) -> list[T]:
    """`read(node)` for every node, several at a time; results in the order of `names`."""
    if len(names) < 2:
        return [read(n) for n in names]
    with ThreadPoolExecutor(max_workers=min(READERS, len(names))) as pool:
        return list(pool.map(read, names))


def all_sessions(plan: Plan, node_dir, host: Host = LOCAL) -> list[SessionState]:
    """Sessions as the peer side sees them (peer routers, members, the internet node)."""
    names = [n.name for n in plan.nodes
             if n.role in (Role.PEER_ROUTER, Role.MEMBER, Role.INTERNET)]
    per_node = each_node(names, lambda n: node_sessions(plan, n, node_dir(n), host))
    return [state for states in per_node for state in states]


def node_routes(plan: Plan, node: str, d: Path, host: Host = LOCAL) -> frozenset[str]:
    """Every prefix in a router program's BGP table."""
    spec = plan.node(node)
    return registry.kind_of(spec).routes(host, spec, d)


def bird_prefixes(d: Path, host: Host = LOCAL, node: str = "") -> set[str]:
    """The prefixes in a BIRD speaker's tables (both families)."""
    return set(bird.bird_routes(host, node, d))


def members_missing(plan: Plan, node_dir, host: Host = LOCAL) -> dict[str, set[str]]:
    """Per member, the routes its route server holds and it does not (its own aside): what the
    route server has still to pass on (RFC 7947 2: a member hears the RS's routes)."""
    servers = plan.nodes_with(Role.ROUTE_SERVER)
    if not servers:
        return {}
    offered = node_routes(plan, servers[0].name, node_dir(servers[0].name), host)
    members = plan.nodes_with(Role.MEMBER)
    held = each_node([m.name for m in members],
                     lambda n: node_routes(plan, n, node_dir(n), host))
    return {m.name: set(offered - set(m.announces) - routes) for m, routes in zip(members, held)}


def internet_sources(plan: Plan, node: str, d: Path, host: Host = LOCAL) -> dict[str, set[str]]:
    """What the internet node (BIRD) holds: prefix → the edge routers it heard it from."""
    names = {bird.protocol_name(far_end(s, node)[1], s.family): far_end(s, node)[1]
             for s in plan.sessions_of(node)}
    return {prefix: {names.get(p, p) for p in protocols}
            for prefix, protocols in bird.bird_route_sources(host, node, d).items()}


def microsoft_prefix_count(plan: Plan, node: str, d: Path, host: Host = LOCAL) -> dict[str, int]:
    """How many of the Microsoft prefixes the peer router holds, per family."""
    held = node_routes(plan, node, d, host) & set(plan.microsoft_prefixes)
    v6 = sum(1 for p in held if ":" in p)
    return {"ipv4": len(held) - v6, "ipv6": v6}


@dataclass(frozen=True)
class PeerDevice:
    """What the page forbids on the device that terminates peering, as seen in its namespace."""

    node: str
    conntrack_rules: tuple[str, ...]     # nftables rules matching on connection state
    rate_limits: tuple[str, ...]         # nftables limits, meters, quotas; tc shapers and
                                         # policers on interconnect interfaces


_CT_RULE = re.compile(r"^\s*(.*\bct (state|status|mark|helper|count)\b.*)$", re.M)
# nftables statements that limit what passes (nft(8) LIMIT STATEMENT, QUOTA STATEMENT, and
# meters: per-key limits kept in a dynamic set), and references to named limit/quota objects.
_NFT_LIMIT = re.compile(r"\b(limit (rate|name)|quota (over|until|name|\d)|meter \S+)")
# Queueing disciplines and actions that shape or police (tc-tbf(8), tc-htb(8), tc-police(8)).
_LIMITERS = re.compile(r"\b(tbf|htb|cbq|hfsc|police|cake)\b")


def parse_ruleset(ruleset: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(rules that track connections, rules that limit rate or volume) of `nft list ruleset`,
    each as `RULE (table FAMILY NAME, chain NAME)`; object definitions alone limit nothing."""
    conntrack: list[str] = []
    limits: list[str] = []
    table = chain = ""
    for line in ruleset.splitlines():
        words = line.split()
        if len(words) >= 3 and words[0] == "table":
            table, chain = " ".join(words[1:3]), ""
        elif len(words) >= 2 and words[0] == "chain":
            chain = words[1]
        elif chain and words and words[0] not in ("type", "}"):
            rule = " ".join(words)
            where = f"{rule} (table {table}, chain {chain})"
            if _CT_RULE.match(line):
                conntrack.append(where)
            if _NFT_LIMIT.search(rule):
                limits.append(where)
        if words == ["}"] and chain:
            chain = ""
    return tuple(conntrack), tuple(limits)


def peer_device(runtime, plan: Plan, node: str) -> PeerDevice:
    ruleset = runtime.run(node, ["nft", "list", "ruleset"], check=False).stdout
    conntrack, nft_limits = parse_ruleset(ruleset)
    interfaces = [lag.ifname for lag in plan.lags_of(node)]
    interfaces += [m.a_ifname for lag in plan.lags_of(node) for m in lag.members]
    limits = [f"nftables: {rule}" for rule in nft_limits]
    for ifname in interfaces:
        for what in (["qdisc", "show", "dev", ifname], ["filter", "show", "dev", ifname, "ingress"],
                     ["filter", "show", "dev", ifname, "egress"]):
            out = runtime.run(node, ["tc", *what], check=False).stdout
            limits += [f"{ifname}: {line.strip()}" for line in out.splitlines()
                       if _LIMITERS.search(line)]
    return PeerDevice(node, conntrack, tuple(limits))
