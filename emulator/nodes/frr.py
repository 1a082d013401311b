"""FRR on the peer routers: bgpd.conf rendering and start-up (zebra, then bgpd)."""
from __future__ import annotations

import shutil
from pathlib import Path

from emulator.core import wait
from emulator.plan.model import MICROSOFT_ASN, BgpSession, Node, Plan
from emulator.runtime.base import Runtime


def _peer_of(session: BgpSession, node: str) -> tuple[str, int, str]:
    if session.a_node == node:
        return session.b_address, session.b_asn, session.b_node
    return session.a_address, session.a_asn, session.a_node


def render_bgpd(plan: Plan, node: Node, log_file: str) -> str:
    sessions = plan.sessions_of(node.name)
    lines = [
        "frr defaults traditional",
        f"hostname {node.name}",
        f"log file {log_file}",
        "log timestamp precision 3",
        "!",
        # Towards Microsoft: never send Microsoft's own routes back (RFC 4271 9.1.2 would drop
        # them there anyway); everything else the exchange carries is offered.
        f"bgp as-path access-list MICROSOFT seq 5 permit _{MICROSOFT_ASN}_",
        "!",
        "route-map TO-MICROSOFT deny 10",
        " match as-path MICROSOFT",
        "route-map TO-MICROSOFT permit 20",
        "!",
        f"router bgp {node.asn}",
        f" bgp router-id {node.router_id}",
        # RFC 8212: eBGP needs an explicit policy; the lab's policy is the route-maps above.
        " no bgp ebgp-requires-policy",
        " no bgp network import-check",
        " bgp bestpath as-path multipath-relax",
        # No graceful restart (RFC 4724): failover is measured on withdrawn paths.
        " bgp graceful-restart-disable",
        f" timers bgp {plan.timers.keepalive} {plan.timers.hold}",
    ]
    for session in sessions:
        address, asn, name = _peer_of(session, node.name)
        lines += [f" neighbor {address} remote-as {asn}",
                  f" neighbor {address} description {name} {session.name}",
                  f" neighbor {address} timers connect 1"]
    for family in ("ipv4", "ipv6"):
        lines.append(f" address-family {family} unicast")
        for prefix in node.announces:
            if (":" in prefix) == (family == "ipv6"):
                lines.append(f"  network {prefix}")
        for session in sessions:
            address, asn, _ = _peer_of(session, node.name)
            if session.family != family:
                continue
            lines.append(f"  neighbor {address} activate")
            if asn == MICROSOFT_ASN:
                lines.append(f"  neighbor {address} route-map TO-MICROSOFT out")
                if node.max_prefix:
                    lines.append(f"  neighbor {address} maximum-prefix {node.max_prefix}")
            elif asn == node.asn:
                lines.append(f"  neighbor {address} next-hop-self")
        if family == "ipv4":
            # Sessions are per family: an IPv6 neighbor must not carry IPv4 and the reverse.
            for session in sessions:
                if session.family == "ipv6":
                    lines.append(f"  no neighbor {_peer_of(session, node.name)[0]} activate")
        lines.append(" exit-address-family")
    lines += ["!", "line vty", "!"]
    return "\n".join(lines) + "\n"


def start(runtime: Runtime, plan: Plan, node: Node, d: Path) -> None:
    """Start zebra, wait for its zserv socket (bgpd retries only after 10 s), then bgpd."""
    (d / "bgpd.conf").write_text(render_bgpd(plan, node, str(d / "bgpd.log")))
    (d / "zebra.conf").write_text(f"hostname {node.name}\n")
    shutil.chown(d, "frr", "frr")
    for name in ("bgpd.conf", "zebra.conf"):
        shutil.chown(d / name, "frr", "frr")
    # A killed zebra leaves its socket behind; bgpd must not mistake it for a live one.
    for stale in ("zserv.api", "zebra.pid", "bgpd.pid"):
        (d / stale).unlink(missing_ok=True)
    common = ["-A", "127.0.0.1", "-P", "0", "--vty_socket", str(d), "-z", str(d / "zserv.api")]
    runtime.run(node.name, _private_tmp(d, ["/usr/lib/frr/zebra", "-d", *common, "-f",
                                            str(d / "zebra.conf"), "-i", str(d / "zebra.pid"),
                                            "--log", f"file:{d}/zebra.log"]))
    wait.until("daemon_socket", lambda: (d / "zserv.api").exists(),
               lambda ok: "" if ok else f"{d / 'zserv.api'} not there yet")
    runtime.run(node.name, _private_tmp(d, ["/usr/lib/frr/bgpd", "-d", *common, "-f",
                                            str(d / "bgpd.conf"), "-i", str(d / "bgpd.pid"),
                                            "--log", f"file:{d}/bgpd.log"]))


FRR_TMP = Path("/var/tmp/frr")


def _private_tmp(d: Path, argv: list[str]) -> list[str]:
    """Run an FRR daemon with the node's own directory over /var/tmp/frr.

    FRR keeps a per-process crash-log directory there (/var/tmp/frr/<daemon>.<pid>, fixed at
    build time); `ip netns exec` gives each command a private mount namespace, so a bind mount
    made in it keeps those files in the lab's directory, removed with the lab.
    """
    tmp = d / "tmp"
    tmp.mkdir(exist_ok=True)
    shutil.chown(tmp, "frr", "frr")
    FRR_TMP.mkdir(parents=True, exist_ok=True)
    script = 'mount --bind "$0" /var/tmp/frr && exec "$@"'
    return ["sh", "-c", script, str(tmp), *argv]


def vtysh(d: Path, command: str) -> list[str]:
    return ["vtysh", "--vty_socket", str(d), "-c", command]
