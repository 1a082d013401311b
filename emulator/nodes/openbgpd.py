"""OpenBGPD (Debian `openbgpd`, 7.7) as a peer router: the lab-made bgpd.conf, `bgpd -n`,
start-up with a control socket of its own, observation through `bgpctl -j`.

Several instances on one host: bgpd has no socket or pid-file option, chroots to /run/openbgpd and
puts its control socket there (/run/openbgpd/bgpd.sock.0). `ip netns exec` gives each command a
private mount namespace, so start() bind-mounts the node's own directory d/openbgpd over
/run/openbgpd for this bgpd alone: chroot and socket are per node, and nothing in the
configuration file has to say so (a user's own bgpd.conf runs as it is). A `socket "PATH"` line of
the user's own is honoured. The pid is the one the lab started (`bgpd -d` stays in the foreground).

OpenBGPD-portable never programs the kernel FIB on Linux: start() runs emulator.nodes.fib_sync
beside it, which installs bgpd's selected routes in the node's table.
"""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from emulator.core.page import MICROSOFT_ASN
from emulator.nodes import daemon, fib_sync
from emulator.nodes.base import (ConfigProblem, Host, Neighbor, RouterView, as_int, far_end,
                                 near_end, run_quietly)
from emulator.nodes import control
from emulator.nodes.registry import register
from emulator.plan.model import BgpSession, Node, Plan, Role

RUN_DIR = "/run/openbgpd"           # compiled in: bgpd's chroot and default socket directory
DEFAULT_SOCKET = "bgpd.sock.0"      # "bgpd.sock" with the routing table (0 on Linux) appended
PID_NAME = "bgpd"


# --- the lab's configuration ---------------------------------------------------------------

def _group(title: str, name: str, asn: int, extra: list[str], plan: Plan, node: Node,
           sessions: list[BgpSession]) -> list[str]:
    lines = [f"# {title}", f'group "{name}" {{', f"\tremote-as {asn}", *extra,
             # No graceful restart (RFC 4724): a dead router's routes go at once, so failover
             # is measured on withdrawn paths, not on stale-path retention.
             "\tannounce restart no"]
    for session in sessions:
        address, peer, _ = far_end(session, node.name)
        lines += [f"\tneighbor {address} {{", f'\t\tdescr "{peer} {session.name}"',
                  f"\t\tlocal-address {near_end(session, node.name)}",
                  *([f"\t\ttcp md5sig password {session.md5_key}"] if session.md5_key else []),
                  "\t}"]
    return lines + ["}", ""]


def render(plan: Plan, node: Node) -> str:
    """bgpd.conf(5) with the lab's policy, as FRR's: originate the node's prefixes, never send
    Microsoft its own routes back, max-prefix on Microsoft's sessions, next-hop-self on iBGP."""
    sessions = plan.sessions_of(node.name)
    microsoft = [s for s in sessions if far_end(s, node.name)[2] == MICROSOFT_ASN]
    internal = [s for s in sessions if far_end(s, node.name)[2] == node.asn]
    others = [s for s in sessions if s not in microsoft and s not in internal]
    lines = [
        f"# {node.name}: OpenBGPD for AS{node.asn}, made by maps-lab (lab {plan.lab}).",
        "# The lab gives this bgpd its own /run/openbgpd (chroot and control socket), so no",
        "# `socket` line is needed.",
        "",
        f"AS {node.asn}",
        f"router-id {node.router_id}",
        f"holdtime {plan.timers.hold}",
        "# Retry a lost session after a second, not the default two minutes.",
        "connect-retry 1",
        "# OpenBGPD-portable does not program the Linux FIB; the lab's fib_sync installs the",
        "# selected routes instead.",
        "fib-update no",
        "",
        "# Our own prefixes (the contract): announced to every neighbor the filters allow.",
        "# The weight makes our own route win over the partner's copy of it (bgpd would",
        "# otherwise pick the lower router id; FRR gives local routes weight 32768).",
        *[f"network {prefix} set weight 100" for prefix in node.announces],
        "",
    ]
    by_peer: dict[tuple[str, int], list[BgpSession]] = {}
    for session in others:
        _, peer, asn = far_end(session, node.name)
        by_peer.setdefault((peer, asn), []).append(session)
    if microsoft:
        limit = [f"\tmax-prefix {node.max_prefix}"] if node.max_prefix else []
        lines += _group(f"Microsoft (AS{MICROSOFT_ASN}) over the interconnect LAG, one session "
                        "per address family.\n# The page: a prefix limit with headroom over "
                        "Microsoft's ~280.",
                        "microsoft", MICROSOFT_ASN, limit, plan, node, microsoft)
    for (peer, asn), group in by_peer.items():
        # A transparent route server (RFC 7947 2.2.2.1) does not put its AS first in the path.
        lines += _group(f"{peer} (AS{asn}) on the exchange LAN.", peer, asn,
                        ["\tenforce neighbor-as no"], plan, node, group)
    if internal:
        lines += _group("Our partner router (iBGP) on the exchange LAN.", "ibgp", node.asn, [],
                        plan, node, internal)
    lines += [
        "# Filters: the last matching rule decides (bgpd.conf(5), FILTER).",
        "allow from any",
        "allow to any",
    ]
    if microsoft:
        lines += [f"# Never send Microsoft its own routes back: AS{MICROSOFT_ASN} anywhere "
                  "in the path.", f'deny to group "microsoft" AS {MICROSOFT_ASN}']
    if internal:
        lines += ["# Our partner reaches our eBGP next hops through us.",
                  'match to group "ibgp" set nexthop self']
    return "\n".join(lines) + "\n"


# --- the program's own syntax check ---------------------------------------------------------

# bgpd -n: "/path/bgpd.conf:12: syntax error" (one line per problem, on stderr)
_PROBLEM = re.compile(r"^(\S+?):(\d+): (.*)$", re.M)


def check_config(path: Path) -> list[ConfigProblem]:
    """OpenBGPD's own parser: `bgpd -n -f FILE` parses the file and exits."""
    result = subprocess.run(["bgpd", "-n", "-f", str(path)], capture_output=True, text=True,
                            timeout=30, stdin=subprocess.DEVNULL)
    if result.returncode == 0:
        return []
    out = (result.stderr + "\n" + result.stdout).strip()
    problems = [ConfigProblem(m.group(1), int(m.group(2)), m.group(3).strip())
                for m in _PROBLEM.finditer(out)]
    return problems or [ConfigProblem(str(path), None, out[-400:] or "bgpd -n failed")]


# --- start-up --------------------------------------------------------------------------------

_SOCKET_LINE = re.compile(r'^\s*socket\s+"([^"]+)"\s*$', re.M)


def control_socket(d: Path) -> Path:
    """Where this node's bgpd listens: a `socket` line of the configuration if it has one
    (under /run/openbgpd it lands in the node's own copy), else the compiled-in default."""
    try:
        named = _SOCKET_LINE.search((d / "bgpd.conf").read_text(errors="replace"))
    except OSError:
        named = None
    if named is None:
        return d / "openbgpd" / DEFAULT_SOCKET
    path = named.group(1)
    if path.startswith(RUN_DIR + "/"):
        return d / "openbgpd" / path[len(RUN_DIR) + 1:]
    return Path(path)


def start(host: Host, plan: Plan, node: Node, d: Path) -> None:
    """Start bgpd on d/bgpd.conf (the lab's rendering or the user's own file) with the node's
    own /run/openbgpd, wait for its control socket, then start the FIB loop beside it."""
    if not (d / "bgpd.conf").exists():
        (d / "bgpd.conf").write_text(render(plan, node))
    run_dir = d / "openbgpd"
    run_dir.mkdir(exist_ok=True)
    socket = control_socket(d)
    socket.unlink(missing_ok=True)          # left by a killed bgpd: not a live one
    # The mount point must exist; the bind mount is private to this command's mount namespace.
    script = f'mkdir -p {RUN_DIR} && mount --bind "$0" {RUN_DIR} && exec "$@"'
    pid = daemon.spawn(host, node.name, ["sh", "-c", script, str(run_dir), "bgpd", "-d", "-v",
                                         "-f", str(d / "bgpd.conf")], d, PID_NAME)
    daemon.await_ready(node.name, pid, d / f"{PID_NAME}.log",
                       lambda: _answers(host, node, socket), "bgpd")
    fib_sync.spawn(host, node.name, d, "openbgpd", str(socket))


def _answers(host: Host, node: Node, socket: Path) -> bool:
    return socket.exists() and bool(run_quietly(host, node.name, bgpctl(socket, "show")))


def bgpctl(socket: Path | str, *command: str) -> list[str]:
    return ["bgpctl", "-s", str(socket), "-j", *command]


# --- observation -----------------------------------------------------------------------------

# bgpctl's statenames (bgpd.h); "None" is a neighbor not started yet.
_STATES = {"None": "Idle", "Idle": "Idle", "Connect": "Connect", "Active": "Active",
           "OpenSent": "OpenSent", "OpenConfirm": "OpenConfirm", "Established": "Established"}
_FAMILIES = {"IPv4 unicast": "ipv4", "IPv6 unicast": "ipv6"}


def _rib(text: str | None) -> list[dict]:
    try:
        data = json.loads(text or "{}")
    except ValueError:
        return []
    rib = data.get("rib") if isinstance(data, dict) else None
    return [r for r in rib or [] if isinstance(r, dict)]


def parse_neighbors(node: str, text: str | None, rib_text: str | None = None) -> RouterView:
    """`bgpctl -j show neighbor`: state, received count and max-prefix per neighbor; with
    `bgpctl -j show rib` (the Loc-RIB, after the import filters) the accepted count."""
    if text is None:
        return RouterView(node, "openbgpd", (), answered=False)
    try:
        data = json.loads(text) if text.strip() else {}
    except ValueError:
        data = {}
    accepted: dict[str, int] = {}
    if rib_text is not None:
        for route in _rib(rib_text):
            source = (route.get("neighbor") or {}).get("remote_addr")
            # Not valid: not eligible for selection (its path holds our own AS, for example).
            if source and route.get("valid"):
                accepted[source] = accepted.get(source, 0) + 1
    found = []
    for peer in data.get("neighbors", []) if isinstance(data, dict) else []:
        address = peer.get("remote_addr")
        if not address or peer.get("config", {}).get("template"):
            continue
        config = peer.get("config") or {}
        session = peer.get("session") or {}
        caps = ((session.get("capabilities") or config.get("capabilities") or {})
                .get("multiprotocol") or [])
        prefixes = (peer.get("stats") or {}).get("prefixes") or {}
        received = prefixes.get("received")
        state = str(peer.get("state", ""))
        found.append(Neighbor(
            address=address, state=_STATES.get(state, state),
            remote_asn=as_int(peer.get("remote_as")),
            received=as_int(received),
            accepted=accepted.get(address, 0) if rib_text is not None else None,
            max_prefix=as_int(config.get("max_prefix")) or None,
            families=tuple(_FAMILIES.get(c, c) for c in caps),
            exported=as_int(prefixes.get("sent"))))
    return RouterView(node, "openbgpd", tuple(found))


def parse_routes(text: str | None) -> frozenset[str]:
    return frozenset(r["prefix"] for r in _rib(text) if r.get("prefix"))


def rib_commands(socket: str) -> list[list[str]]:
    """For fib_sync: the selected route of every prefix."""
    return [bgpctl(socket, "show", "rib", "selected")]


def best_routes(text: str) -> dict[str, str]:
    """prefix -> next hop of each selected route learned from a neighbor (fib_sync)."""
    best = {}
    for route in _rib(text):
        hop = route.get("exit_nexthop")
        if route.get("best") and route.get("prefix") and hop and hop not in ("0.0.0.0", "::"):
            best[route["prefix"]] = hop
    return best


@register
class OpenBgpd:
    software = "openbgpd"
    title = "OpenBGPD"
    roles = frozenset({Role.PEER_ROUTER})
    config_name = "bgpd.conf"
    daemons = (PID_NAME, "fib_sync")       # their pid files (emulator.nodes.liveness)

    def render(self, plan: Plan, node: Node, d: Path) -> str:
        return render(plan, node)

    def check_config(self, path: Path) -> list[ConfigProblem]:
        return check_config(path)

    def start(self, host: Host, plan: Plan, node: Node, d: Path) -> None:
        start(host, plan, node, d)

    def observe(self, host: Host, node: Node, d: Path) -> RouterView:
        socket = control_socket(d)
        text = run_quietly(host, node.name, bgpctl(socket, "show", "neighbor"))
        if text is None:
            return parse_neighbors(node.name, None)
        return parse_neighbors(node.name, text,
                               run_quietly(host, node.name, bgpctl(socket, "show", "rib")))

    def routes(self, host: Host, node: Node, d: Path) -> frozenset[str]:
        return parse_routes(run_quietly(host, node.name, bgpctl(control_socket(d), "show", "rib")))

    def control(self, d: Path, *command: str) -> list[str]:
        """bgpctl on this node's control socket (`show` when no command is given)."""
        return control.openbgpd_control(control_socket(d), *command)

    def originate(self, host: Host, plan: Plan, node: Node, d: Path, prefix: str,
                  announce: bool) -> None:
        control.openbgpd_originate(host, node, control_socket(d), prefix, announce)

