"""BIRD 2 as a peer router: the lab-made bird.conf (emulator.nodes.bird starts and observes it).

The same policy as the lab's FRR rendering: originate the node's prefixes, offer everything BGP
learned, never send Microsoft its own routes back, a prefix limit on Microsoft's sessions,
next-hop-self towards the partner router, no graceful restart. BIRD programs the kernel itself
(`protocol kernel`), so no FIB loop runs beside it.
"""
from __future__ import annotations

from emulator.core.page import MICROSOFT_ASN
from emulator.nodes.base import far_end, near_end
from emulator.plan.model import Node, Plan


def _protocol_name(peer_node: str, family: str) -> str:
    return f"{peer_node.replace('-', '_')}_{family[-2:]}"


def render(plan: Plan, node: Node) -> str:
    lines = [
        f"# {node.name}: BIRD 2 for AS{node.asn}, made by maps-lab (lab {plan.lab}).",
        "",
        f"router id {node.router_id};",
        "",
        "protocol device {}",
        "",
        "# Connected networks, so that the partner's iBGP next hop on the exchange LAN resolves.",
        "# The export filters below never let them into BGP.",
        "protocol direct {",
        "  ipv4;",
        "  ipv6;",
        "}",
        "",
        "# What BGP selected goes to the kernel, so traffic follows it.",
    ]
    for family in ("ipv4", "ipv6"):
        lines += [f"protocol kernel kernel_{family[-2:]} {{",
                  f"  {family} {{ import none; export where source = RTS_BGP; }};", "}", ""]
    if node.announces:
        lines += ["# Our own prefixes (the contract), originated here; their blackholes never reach",
                  "# the kernel (the kernel protocols export BGP routes only)."]
    for family in ("ipv4", "ipv6"):
        routes = [p for p in node.announces if (":" in p) == (family == "ipv6")]
        if routes:
            lines += [
                f"protocol static originate_{family[-2:]} {{",
                f"  {family};",
                *[f"  route {prefix} blackhole;" for prefix in routes],
                "}",
                "",
            ]
    lines += [
        "# Towards Microsoft: our prefixes and what the exchange carries, never Microsoft's",
        f"# own routes back (AS{MICROSOFT_ASN} anywhere in the path).",
        "filter to_microsoft {",
        f"  if bgp_path ~ [= * {MICROSOFT_ASN} * =] then reject;",
        "  if source = RTS_STATIC then accept;",
        "  if source = RTS_BGP then accept;",
        "  reject;",
        "}",
        "",
        "# Towards the exchange (route server, partner): our prefixes and what BGP learned.",
        "filter to_exchange {",
        "  if source = RTS_STATIC then accept;",
        "  if source = RTS_BGP then accept;",
        "  reject;",
        "}",
        "",
    ]
    for session in plan.sessions_of(node.name):
        address, peer, asn = far_end(session, node.name)
        microsoft = asn == MICROSOFT_ASN
        channel = ["    import all;",
                   f"    export filter {'to_microsoft' if microsoft else 'to_exchange'};"]
        if microsoft and node.max_prefix:
            # Like FRR's maximum-prefix: above the limit the session is shut and stays down.
            channel.append(f"    receive limit {node.max_prefix} action disable;")
        if asn == node.asn:
            channel.append("    next hop self;")
        lines += [
            f"protocol bgp {_protocol_name(peer, session.family)} {{",
            f"  description \"{peer} {session.name}\";",
            f"  local {near_end(session, node.name)} as {node.asn};",
            f"  neighbor {address} as {asn};",
            f"  hold time {plan.timers.hold};",
            *([f'  password "{session.md5_key}";  # TCP MD5, RFC 2385'] if session.md5_key else []),
            f"  keepalive time {plan.timers.keepalive};",
            "  connect delay time 0;",
            "  connect retry time 1;",
            "  error wait time 1, 30;",
            # Without graceful restart (RFC 4724) a dead router's routes go at once.
            "  graceful restart off;",
            f"  {session.family} {{",
            *channel,
            "  };",
            "}",
            "",
        ]
    return "\n".join(lines)
