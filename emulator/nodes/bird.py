"""BIRD 2 for the exchange: the route server, the member networks and the internet node; and a
peer router (its rendering in emulator.nodes.bird_peer).

Observed through birdc (BIRD 2 has no JSON output): `show protocols all` per BGP protocol.
"""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

from emulator.nodes import bird_peer
from emulator.nodes.base import ConfigProblem, Host, Neighbor, RouterView, run_quietly
from emulator.nodes import control
from emulator.nodes.registry import register
from emulator.plan.model import BgpSession, Node, Plan, Role


def _peer_of(session: BgpSession, node: str) -> tuple[str, str, int, str]:
    if session.a_node == node:
        return session.a_address, session.b_address, session.b_asn, session.b_node
    return session.b_address, session.a_address, session.a_asn, session.a_node


def protocol_name(peer_node: str, family: str) -> str:
    return f"{peer_node.replace('-', '_')}_{family[-2:]}"


def render(plan: Plan, node: Node) -> str:
    if node.role is Role.PEER_ROUTER:
        return bird_peer.render(plan, node)
    lines = [f"router id {node.router_id};", "", "protocol device {}", ""]
    if node.announces:
        for family in ("ipv4", "ipv6"):
            routes = [p for p in node.announces if (":" in p) == (family == "ipv6")]
            if routes:
                lines.append(f"protocol static originate_{family[-2:]} {{")
                lines.append(f"  {family};")
                lines += [f"  route {p} blackhole;" for p in routes]
                lines += ["}", ""]
    route_server = node.role is Role.ROUTE_SERVER
    if not route_server:
        # A member forwards: what it learns goes into its kernel table.
        for family in ("ipv4", "ipv6"):
            lines += [f"protocol kernel kernel_{family[-2:]} {{",
                      f"  {family} {{ import none; export where source = RTS_BGP; }};", "}", ""]
    for session in plan.sessions_of(node.name):
        local, remote, asn, name = _peer_of(session, node.name)
        proto = protocol_name(name, session.family)
        export = "all" if route_server else "where source = RTS_STATIC"
        lines += [
            f"protocol bgp {proto} {{",
            f"  description \"{name} {session.name}\";",
            f"  local {local} as {node.asn};",
            f"  neighbor {remote} as {asn};",
            f"  hold time {plan.timers.hold};",
            f"  keepalive time {plan.timers.keepalive};",
            "  connect delay time 0;",
            "  connect retry time 5;",
            "  error wait time 1, 30;",
            # Without graceful restart (RFC 4724) a dead router's routes go at once, not after
            # the restart time: the lab measures failover, not stale-path retention.
            "  graceful restart off;",
        ]
        if route_server:
            # A transparent route server (RFC 7947 2.2): no own ASN, next hop kept.
            lines.append("  rs client;")
        lines += [f"  {session.family} {{", "    import all;", f"    export {export};", "  };",
                  "}", ""]
    return "\n".join(lines)


def start(runtime: Host, plan: Plan, node: Node, d: Path) -> None:
    """Start BIRD on d/bird.conf (the lab's rendering, or a copy of the user's own file)."""
    if not (d / "bird.conf").exists():
        (d / "bird.conf").write_text(render(plan, node))
    runtime.run(node.name, ["bird", "-c", str(d / "bird.conf"), "-s", str(d / "bird.ctl"),
                            "-P", str(d / "bird.pid")])


def birdc(d: Path, command: str) -> list[str]:
    return ["birdc", "-s", str(d / "bird.ctl"), command]


# `show protocols all`: a header line per protocol, then indented details (BIRD 2.0 doc 4.x).
_HEADER = re.compile(r"^(\S+)\s+(\S+)\s+\S+\s+(\S+)\s+\S+(?:\s+\S+)?\s*(\S*)\s*$")
_NEIGHBOR = re.compile(r"^\s+Neighbor address:\s+(\S+)", re.M)
_NEIGHBOR_AS = re.compile(r"^\s+Neighbor AS:\s+(\d+)", re.M)
_BGP_STATE = re.compile(r"^\s+BGP state:\s+(\S+)", re.M)
_ROUTES = re.compile(r"^\s+Routes:\s+(\d+) imported(?:, (\d+) filtered)?", re.M)
_EXPORTED = re.compile(r"^\s+Routes:\s+.*?\b(\d+) exported", re.M)
_LIMIT = re.compile(r"^\s+(?:Receive|Import) limit:\s+(\d+)", re.M)
_CHANNEL = re.compile(r"^\s+Channel (ipv4|ipv6)", re.M)
# BIRD's BGP states (proto/bgp/bgp.c bgp_state_names) to RFC 4271 8.2.2 names: BIRD says Down
# for a protocol that is shut (for example by its receive limit) and Close while it closes.
_STATES = {"Down": "Idle", "Close": "Idle"}


def parse_protocols(node: str, text: str | None, software: str = "bird") -> RouterView:
    """Every BGP protocol's neighbor, state, counts and limits from `show protocols all`."""
    if text is None:
        return RouterView(node, software, (), answered=False)
    neighbors = []
    blocks = re.split(r"\n(?=\S)", text)
    for block in blocks:
        first = block.splitlines()[0] if block.strip() else ""
        fields = first.split()
        if len(fields) < 2 or fields[1] != "BGP":
            continue
        address = _NEIGHBOR.search(block)
        if not address:
            continue
        state = _BGP_STATE.search(block)
        asn = _NEIGHBOR_AS.search(block)
        imported = [int(m.group(1)) + int(m.group(2) or 0) for m in _ROUTES.finditer(block)]
        accepted = [int(m.group(1)) for m in _ROUTES.finditer(block)]
        limits = [int(m.group(1)) for m in _LIMIT.finditer(block)]
        exported = [int(m.group(1)) for m in _EXPORTED.finditer(block)]
        neighbors.append(Neighbor(
            address=address.group(1).split("%")[0],
            state=_STATES.get(state.group(1), state.group(1)) if state
            else ("Idle" if "down" in first else "Unknown"),
            remote_asn=int(asn.group(1)) if asn else None,
            received=sum(imported) if imported else None,
            accepted=sum(accepted) if accepted else None,
            max_prefix=min(limits) if limits else None,
            families=tuple(_CHANNEL.findall(block)),
            exported=sum(exported) if exported else None))
    return RouterView(node, software, tuple(neighbors))


# bird -p: "bird: /path/bird.conf:12:3 syntax error, unexpected ..."
_PARSE_ERROR = re.compile(r"(/[^:\s]+):(\d+):\d+ (.*)")


def check_config(path: Path) -> list[ConfigProblem]:
    """BIRD's own parser: `bird -p -c FILE` parses and exits."""
    result = subprocess.run(["bird", "-p", "-c", str(path)], capture_output=True, text=True,
                            timeout=30, stdin=subprocess.DEVNULL)
    if result.returncode == 0:
        return []
    out = (result.stderr + result.stdout).strip()
    found = _PARSE_ERROR.search(out)
    if found:
        return [ConfigProblem(found.group(1), int(found.group(2)), found.group(3).strip())]
    return [ConfigProblem(str(path), None, out[-400:] or "bird -p failed")]


def observe_bird(host: Host, node: Node, d: Path, software: str = "bird") -> RouterView:
    return parse_protocols(node.name, run_quietly(host, node.name,
                                                  birdc(d, "show protocols all")), software)


_ROUTE = re.compile(r"^([0-9a-f.:]+/\d+)\s", re.M)
BGP_TABLE = "where source = RTS_BGP || source = RTS_STATIC"


def bird_routes(host: Host, node: str, d: Path) -> frozenset[str]:
    found: set[str] = set()
    for table in ("master4", "master6"):
        # BGP and originated routes only: a peer router's `protocol direct` routes (its
        # connected networks) are not in its BGP table.
        text = run_quietly(host, node, birdc(d, f"show route table {table} {BGP_TABLE}"))
        found |= set(_ROUTE.findall(text or ""))
    return frozenset(found)


# A route line or its continuation (another path): "PREFIX  unicast [PROTOCOL time] ...".
_PATH = re.compile(r"^([0-9a-f.:]+/\d+)?\s+\S+ \[(\S+) ", re.M)


def parse_route_sources(text: str) -> dict[str, set[str]]:
    """Prefix → the protocols (BGP sessions) it was heard on, every path, from `show route`."""
    found: dict[str, set[str]] = {}
    prefix = ""
    for m in _PATH.finditer(text):
        prefix = m.group(1) or prefix
        if prefix:
            found.setdefault(prefix, set()).add(m.group(2))
    return found


def bird_route_sources(host: Host, node: str, d: Path) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for table in ("master4", "master6"):
        text = run_quietly(host, node, birdc(d, f"show route table {table} {BGP_TABLE}"))
        for prefix, protocols in parse_route_sources(text or "").items():
            found.setdefault(prefix, set()).update(protocols)
    return found


@register
class Bird:
    software = "bird"
    title = "BIRD"
    roles = frozenset({Role.ROUTE_SERVER, Role.MEMBER, Role.INTERNET, Role.PEER_ROUTER})
    config_name = "bird.conf"
    daemons = ("bird",)                    # its pid file in the node's directory

    def render(self, plan: Plan, node: Node, d: Path) -> str:
        return render(plan, node)

    def check_config(self, path: Path) -> list[ConfigProblem]:
        return check_config(path)

    def start(self, host: Host, plan: Plan, node: Node, d: Path) -> None:
        start(host, plan, node, d)

    def observe(self, host: Host, node: Node, d: Path) -> RouterView:
        return observe_bird(host, node, d)

    def routes(self, host: Host, node: Node, d: Path) -> frozenset[str]:
        return bird_routes(host, node.name, d)

    def control(self, d: Path, *command: str) -> list[str]:
        """birdc on this node's control socket (one command, or its shell)."""
        return control.bird_control(d, *command)

    def originate(self, host: Host, plan: Plan, node: Node, d: Path, prefix: str,
                  announce: bool) -> None:
        control.bird_originate(host, node, d, prefix, announce, lambda n: render(plan, n))

