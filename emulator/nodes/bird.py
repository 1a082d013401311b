"""BIRD 2 for the exchange: the route server and the member networks."""
from __future__ import annotations

from pathlib import Path

from emulator.plan.model import BgpSession, Node, Plan, Role
from emulator.runtime.base import Runtime


def _peer_of(session: BgpSession, node: str) -> tuple[str, str, int, str]:
    if session.a_node == node:
        return session.a_address, session.b_address, session.b_asn, session.b_node
    return session.b_address, session.a_address, session.a_asn, session.a_node


def protocol_name(peer_node: str, family: str) -> str:
    return f"{peer_node.replace('-', '_')}_{family[-2:]}"


def render(plan: Plan, node: Node) -> str:
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


def start(runtime: Runtime, plan: Plan, node: Node, d: Path) -> None:
    (d / "bird.conf").write_text(render(plan, node))
    runtime.run(node.name, ["bird", "-c", str(d / "bird.conf"), "-s", str(d / "bird.ctl"),
                            "-P", str(d / "bird.pid")])


def birdc(d: Path, command: str) -> list[str]:
    return ["birdc", "-s", str(d / "bird.ctl"), command]
