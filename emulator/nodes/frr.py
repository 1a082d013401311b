"""FRR as a peer router: the lab-made bgpd.conf, the syntax check, start-up (zebra, then bgpd)
and observation through vtysh JSON."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

from emulator.core import wait
from emulator.core.page import MICROSOFT_ASN
from emulator.nodes.base import ConfigProblem, Host, Neighbor, RouterView, as_int, run_quietly
from emulator.nodes import control
from emulator.nodes.registry import register
from emulator.plan.model import BgpSession, Node, Plan, Role


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
        # FRR holds a new peer's first UPDATEs for its subgroup coalesce time (1 s by
        # default) to group peers; a lab's sessions come up together, 50 ms is enough.
        " coalesce-time 50",
        f" timers bgp {plan.timers.keepalive} {plan.timers.hold}",
    ]
    for session in sessions:
        address, asn, name = _peer_of(session, node.name)
        lines += [f" neighbor {address} remote-as {asn}",
                  f" neighbor {address} description {name} {session.name}",
                  f" neighbor {address} timers connect 1"]
        if session.md5_key:
            lines.append(f" neighbor {address} password {session.md5_key}")   # RFC 2385
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


# Static routes are staticd's (FRR 7.2 and later). An operator's own file often has them for
# the aggregates it announces: `ip route 192.0.2.0/24 Null0` beside `network 192.0.2.0/24`, with
# BGP's import check on (the network is announced only while the RIB holds that route).
_STATIC_ROUTE = re.compile(r"^\s*ip(v6)? route\s")
_VRF = re.compile(r"^vrf (\S+)\s*$")
_VRF_END = re.compile(r"^(exit-vrf|exit|end)\s*$")


def static_routes(config: str) -> str:
    """The file's static routes, each in its `vrf` block where it has one: what staticd reads.

    staticd does not read an integrated frr.conf on its own: a block it has no node for
    (`interface ...` in FRR 8.4) fails, and the block's `exit` then leaves configuration mode,
    so every later command fails too. vtysh boots such a file by sending each command to the
    daemons that know it; the lab gives staticd only its own commands instead."""
    out: list[str] = []
    vrf = None
    for line in config.splitlines():
        if (found := _VRF.match(line)) is not None:
            vrf = found.group(1)
        elif vrf is not None and _VRF_END.match(line):
            vrf = None
        elif _STATIC_ROUTE.match(line):
            out += [f"vrf {vrf}", f" {line.strip()}", "exit-vrf"] if vrf else [line.strip()]
    return "\n".join(out) + "\n" if out else ""


def needs_staticd(config: str) -> bool:
    """Whether the configuration holds static routes (top level or in a `vrf` block)."""
    return bool(static_routes(config))


def start(runtime: Host, plan: Plan, node: Node, d: Path) -> None:
    """Start zebra, wait for its zserv socket (bgpd retries only after 10 s), staticd where the
    file has static routes, then bgpd.

    d/bgpd.conf is there already: the lab's rendering or a copy of the user's own file. Each
    daemon reads the whole file and applies its own commands.
    """
    if not (d / "bgpd.conf").exists():
        (d / "bgpd.conf").write_text(render_bgpd(plan, node, str(d / "bgpd.log")))
    (d / "zebra.conf").write_text(f"hostname {node.name}\n")
    shutil.chown(d, "frr", "frr")
    for name in ("bgpd.conf", "zebra.conf"):
        shutil.chown(d / name, "frr", "frr")
    # A killed zebra leaves its socket behind; bgpd must not mistake it for a live one.
    for stale in ("zserv.api", "zebra.pid", "staticd.pid", "bgpd.pid"):
        (d / stale).unlink(missing_ok=True)
    common = ["-A", "127.0.0.1", "-P", "0", "--vty_socket", str(d), "-z", str(d / "zserv.api")]
    runtime.run(node.name, _private_tmp(d, ["/usr/lib/frr/zebra", "-d", *common, "-f",
                                            str(d / "zebra.conf"), "-i", str(d / "zebra.pid"),
                                            "--log", f"file:{d}/zebra.log"]))
    wait.until("daemon_socket", lambda: (d / "zserv.api").exists(),
               lambda ok: "" if ok else f"{d / 'zserv.api'} not there yet")
    routes = static_routes((d / "bgpd.conf").read_text(errors="replace"))
    if routes:
        (d / "staticd.conf").write_text(routes)
        shutil.chown(d / "staticd.conf", "frr", "frr")
        runtime.run(node.name, _private_tmp(d, ["/usr/lib/frr/staticd", "-d", *common, "-f",
                                                str(d / "staticd.conf"), "-i",
                                                str(d / "staticd.pid"),
                                                "--log", f"file:{d}/staticd.log"]))
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


def parse_neighbors(node: str, text: str | None) -> RouterView:
    """`show bgp neighbors json` (FRR 8): state, limit and accepted count per neighbor.

    acceptedPrefixCounter is after the import policy; FRR keeps no pre-policy count without
    soft-reconfiguration inbound, so `received` comes from the summary (pfxRcd) where read.
    """
    if text is None:
        return RouterView(node, "frr", (), answered=False)
    try:
        data = json.loads(text) if text.strip() else {}
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    found = []
    for address, info in data.items():
        if not isinstance(info, dict) or "bgpState" not in info:
            continue
        families = info.get("addressFamilyInfo", {}) or {}
        limits = [f.get("prefixAllowedMax") for f in families.values() if isinstance(f, dict)]
        accepted = [f.get("acceptedPrefixCounter") for f in families.values() if isinstance(f, dict)]
        found.append(Neighbor(
            address=address, state=str(info["bgpState"]),
            remote_asn=as_int(info.get("remoteAs")),
            received=None,
            accepted=sum(int(a) for a in accepted if a is not None) if accepted else None,
            max_prefix=next((int(m) for m in limits if m), None),
            families=tuple(_FAMILY.get(name, name) for name in families)))
    return RouterView(node, "frr", tuple(found))


def parse_summary_received(text: str | None, key: str = "pfxRcd") -> dict[str, int]:
    """pfxRcd (or pfxSnt: sent) per neighbor address from `show bgp summary json`, both
    families; a neighbor the summary gives no such count for is left out."""
    try:
        data = json.loads(text or "{}")
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    counts: dict[str, int] = {}
    for family in ("ipv4Unicast", "ipv6Unicast"):
        section = data.get(family)
        peers = section.get("peers") if isinstance(section, dict) else None
        for address, peer in (peers if isinstance(peers, dict) else {}).items():
            if isinstance(peer, dict) and peer.get(key) is not None:
                counts[address] = counts.get(address, 0) + int(peer.get(key) or 0)
    return counts


_FAMILY = {"ipv4Unicast": "ipv4", "ipv6Unicast": "ipv6"}


# vtysh -C: "line 12: % Unknown command: neighbor x remot-as 1" (and similar)
_VTYSH_LINE = re.compile(r"line (\d+): (.*)")


@register
class Frr:
    software = "frr"
    title = "FRR"
    roles = frozenset({Role.PEER_ROUTER})
    config_name = "bgpd.conf"
    # Their pid files in the node's directory (staticd's only where it was started).
    daemons = ("zebra", "staticd", "bgpd")
    # zebra learns interfaces and addresses from the kernel as they come. Started first because
    # bgpd waits a second after reading its configuration before it connects anywhere (FRR's
    # BGP_INIT_START_TIMER): two FRR routers' iBGP session is the last one up otherwise.
    starts_before_links = True

    def render(self, plan: Plan, node: Node, d: Path) -> str:
        return render_bgpd(plan, node, str(d / "bgpd.log"))

    def check_config(self, path: Path) -> list[ConfigProblem]:
        """FRR's own parser: `vtysh -C -f FILE` (bgpd -C exits 0 on unknown commands)."""
        result = subprocess.run(["vtysh", "-C", "-f", str(path)], capture_output=True, text=True,
                                timeout=30, stdin=subprocess.DEVNULL)
        if result.returncode == 0:
            return []
        out = (result.stdout + result.stderr).strip()
        problems = [ConfigProblem(str(path), int(m.group(1)), m.group(2).strip())
                    for m in _VTYSH_LINE.finditer(out)]
        return problems or [ConfigProblem(str(path), None, out[-400:] or "vtysh -C failed")]

    def start(self, host: Host, plan: Plan, node: Node, d: Path) -> None:
        start(host, plan, node, d)

    def observe(self, host: Host, node: Node, d: Path) -> RouterView:
        view = parse_neighbors(node.name, run_quietly(host, node.name,
                                                      vtysh(d, "show bgp neighbors json")))
        if not view.answered:
            return view
        summary = run_quietly(host, node.name, vtysh(d, "show bgp summary json"))
        received = parse_summary_received(summary)
        sent = parse_summary_received(summary, "pfxSnt")
        return RouterView(view.node, view.software, tuple(
            Neighbor(n.address, n.state, n.remote_asn, received.get(n.address), n.accepted,
                     n.max_prefix, n.families, sent.get(n.address)) for n in view.neighbors))

    def routes(self, host: Host, node: Node, d: Path) -> frozenset[str]:
        found: set[str] = set()
        for family in ("ipv4", "ipv6"):
            text = run_quietly(host, node.name, vtysh(d, f"show bgp {family} unicast json"))
            try:
                found |= set((json.loads(text or "{}").get("routes") or {}))
            except ValueError:
                continue
        return frozenset(found)

    def control(self, d: Path, *command: str) -> list[str]:
        """vtysh with this node's sockets (one command, or its shell)."""
        return control.frr_control(d, *command)

    def originate(self, host: Host, plan: Plan, node: Node, d: Path, prefix: str,
                  announce: bool) -> None:
        control.frr_originate(host, node, d, prefix, announce)

