"""GoBGP (Debian `gobgpd`, 3.10) as a peer router: the lab-made gobgpd.toml, `gobgpd --dry-run`,
start-up with its own API socket, observation through `gobgp -j`.

Several instances on one host: the gRPC API listens on a unix socket in the node's directory
(`--api-hosts unix://d/api.sock`) and the pprof listener is off (`--pprof-disable`; otherwise every
instance wants localhost:6060). Both are flags, so a user's own TOML runs as it is. gobgpd has no
pid file: the pid is the one the lab started.

GoBGP's configuration file cannot originate routes. Once gobgpd has read its file, start() adds
the node's own prefixes (what the contract tells the user to announce) with `gobgp global rib
add`, as an operator's automation would. GoBGP without zebra never programs the kernel FIB:
start() runs emulator.nodes.fib_sync beside it, which installs gobgpd's best routes.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

from emulator.core.errors import Problem, TopologyError
from emulator.core.page import MICROSOFT_ASN
from emulator.nodes import daemon, fib_sync
from emulator.nodes.base import (ConfigProblem, Host, Neighbor, RouterView, as_int, far_end,
                                 near_end, run_quietly)
from emulator.nodes import control
from emulator.nodes.registry import register
from emulator.plan.model import Node, Plan, Role

PID_NAME = "gobgpd"


# --- the lab's configuration ---------------------------------------------------------------

def _quoted(items: list[str]) -> str:
    return "[" + ", ".join(f'"{item}"' for item in items) + "]"


def render(plan: Plan, node: Node) -> str:
    """gobgpd.toml with the lab's policy, as FRR's: never send Microsoft its own routes back,
    max-prefix on Microsoft's sessions, next-hop-self on iBGP, no graceful restart."""
    sessions = plan.sessions_of(node.name)
    microsoft = [far_end(s, node.name)[0] for s in sessions
                 if far_end(s, node.name)[2] == MICROSOFT_ASN]
    partner = [far_end(s, node.name)[0] for s in sessions if far_end(s, node.name)[2] == node.asn]
    own = ", ".join(node.announces) or "none"
    policies = [name for name, used in (("to-microsoft", microsoft), ("to-partner", partner))
                if used]
    lines = [
        f"# {node.name}: GoBGP for AS{node.asn}, made by maps-lab (lab {plan.lab}).",
        "# GoBGP's file cannot originate routes: the lab adds our own prefixes",
        f"# ({own}) with `gobgp global rib add` once gobgpd has read this file.",
        "",
        "[global.config]",
        f"  as = {node.asn}",
        f'  router-id = "{node.router_id}"',
        "",
        "# Export policy for every neighbor; a statement's neighbor set names whom it sends to.",
        "[global.apply-policy.config]",
        *([f"  export-policy-list = {_quoted(policies)}"] if policies else []),
        '  default-export-policy = "accept-route"',
        '  default-import-policy = "accept-route"',
        "",
    ]
    if microsoft:
        lines += ["[[defined-sets.neighbor-sets]]", '  neighbor-set-name = "microsoft"',
                  f"  neighbor-info-list = {_quoted(microsoft)}", ""]
    if partner:
        lines += ["[[defined-sets.neighbor-sets]]", '  neighbor-set-name = "partner"',
                  f"  neighbor-info-list = {_quoted(partner)}", ""]
    lines += [
        "[[defined-sets.bgp-defined-sets.as-path-sets]]",
        '  as-path-set-name = "microsoft-routes"',
        f'  as-path-list = ["_{MICROSOFT_ASN}_"]',
        "",
    ]
    if microsoft:
        lines += [
            f"# Never send Microsoft its own routes back: AS{MICROSOFT_ASN} anywhere in the path.",
            "[[policy-definitions]]",
            '  name = "to-microsoft"',
            "  [[policy-definitions.statements]]",
            '    name = "no-microsoft-routes-back"',
            "    [policy-definitions.statements.conditions.match-neighbor-set]",
            '      neighbor-set = "microsoft"',
            "    [policy-definitions.statements.conditions.bgp-conditions.match-as-path-set]",
            '      as-path-set = "microsoft-routes"',
            "    [policy-definitions.statements.actions]",
            '      route-disposition = "reject-route"',
            "",
        ]
    if partner:
        lines += [
            "# Our partner reaches our eBGP next hops through us.",
            "[[policy-definitions]]",
            '  name = "to-partner"',
            "  [[policy-definitions.statements]]",
            '    name = "next-hop-self"',
            "    [policy-definitions.statements.conditions.match-neighbor-set]",
            '      neighbor-set = "partner"',
            "    [policy-definitions.statements.actions.bgp-actions]",
            '      set-next-hop = "self"',
            "",
        ]
    for session in sessions:
        address, peer, asn = far_end(session, node.name)
        lines += [
            "[[neighbors]]",
            "  [neighbors.config]",
            f'    neighbor-address = "{address}"',
            f"    peer-as = {asn}",
            f'    description = "{peer} {session.name}"',
            *([f'    auth-password = "{session.md5_key}"  # TCP MD5, RFC 2385']
              if session.md5_key else []),
            "  [neighbors.transport.config]",
            f'    local-address = "{near_end(session, node.name)}"',
            "  # Retry a lost session after a second; no graceful restart (RFC 4724).",
            "  [neighbors.timers.config]",
            "    connect-retry = 1",
            f"    hold-time = {plan.timers.hold}",
            f"    keepalive-interval = {plan.timers.keepalive}",
            "  [[neighbors.afi-safis]]",
            "    [neighbors.afi-safis.config]",
            f'      afi-safi-name = "{session.family}-unicast"',
        ]
        if asn == MICROSOFT_ASN and node.max_prefix:
            lines += ["    # The page: a prefix limit with headroom over Microsoft's ~280.",
                      "    [neighbors.afi-safis.prefix-limit.config]",
                      f"      max-prefixes = {node.max_prefix}"]
        lines.append("")
    return "\n".join(lines)


# --- the program's own syntax check ---------------------------------------------------------

# gobgpd logs one JSON object per line; a TOML error carries "(line, column)" in its Error.
_LINE = re.compile(r"\((\d+), \d+\)")
# ...and a YAML error "yaml: line 3: mapping values are not allowed in this context".
_YAML_LINE = re.compile(r"yaml: line (\d+): ")


# A key the schema does not know: "'neighbors[0].config' has invalid keys: peer-typo" (no line).
_INVALID_KEYS = re.compile(r"has invalid keys: ([\w.-]+)")


def _line_of_key(path: Path, found: re.Match[str] | None) -> int | None:
    """The first line that sets the key gobgpd named, so the user is pointed at it."""
    if found is None:
        return None
    setting = re.compile(rf'^\s*(- )?"?{re.escape(found.group(1))}"?\s*[=:]')
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return None
    return next((n for n, text in enumerate(lines, start=1) if setting.match(text)), None)


def check_config(path: Path) -> list[ConfigProblem]:
    """GoBGP's own check: `gobgpd --dry-run -f FILE` reads and validates the file, then exits."""
    result = subprocess.run(["gobgpd", "--dry-run", "-f", str(path), "-l", "info"],
                            capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    if result.returncode == 0:
        return []
    out = (result.stderr + "\n" + result.stdout).strip()
    problems = []
    for line in out.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if not isinstance(record, dict) or record.get("level") not in ("fatal", "error"):
            continue
        error = str(record.get("Error") or record.get("msg") or "")
        where = _LINE.search(error) or _YAML_LINE.search(error)
        line = int(where.group(1)) if where else _line_of_key(path, _INVALID_KEYS.search(error))
        message = _YAML_LINE.sub("yaml: ", _LINE.sub("", error))
        message = message.replace("While parsing config: ", "").strip(" :")
        problems.append(ConfigProblem(str(path), line,
                                      " ".join(message.split()) or str(record.get("msg"))))
    return problems or [ConfigProblem(str(path), None, out[-400:] or "gobgpd --dry-run failed")]


# --- start-up --------------------------------------------------------------------------------

def api(d: Path) -> str:
    return f"unix://{d / 'api.sock'}"


def gobgp(d: Path | str, *command: str) -> list[str]:
    target = api(d) if isinstance(d, Path) else d
    return ["gobgp", "--target", target, "-j", *command]


# gobgpd reads TOML, YAML or JSON, by the file's extension (3.10 does so whatever `-t` says). A
# user's file is copied to gobgpd.toml in the node's directory: its own name says what it holds.
CONFIG_TYPES = {".yaml": "yaml", ".yml": "yaml", ".json": "json", ".toml": "toml"}


def config_type(node: Node) -> str:
    """What the node's configuration is written in: its file's extension (TOML by default, and
    for the lab's own rendering)."""
    return CONFIG_TYPES.get(Path(node.config).suffix.lower(), "toml") if node.config else "toml"


def config_file(node: Node, d: Path) -> Path:
    """The file gobgpd is started on: d/gobgpd.toml, or a copy of it named for its format."""
    kind = config_type(node)
    if kind == "toml":
        return d / "gobgpd.toml"
    path = d / f"gobgpd.{kind}"
    shutil.copyfile(d / "gobgpd.toml", path)
    return path


def start(host: Host, plan: Plan, node: Node, d: Path) -> None:
    """Start gobgpd on d/gobgpd.toml (the lab's rendering or the user's own file), wait until it
    has read the file, originate the node's prefixes, then start the FIB loop beside it."""
    if not (d / "gobgpd.toml").exists():
        (d / "gobgpd.toml").write_text(render(plan, node))
    (d / "api.sock").unlink(missing_ok=True)
    config = config_file(node, d)
    pid = daemon.spawn(host, node.name, ["gobgpd", "-f", str(config), "-p",
                                         "-l", "info", "--pprof-disable",
                                         "--api-hosts", api(d)], d, PID_NAME)
    # The global AS is set only once the file is read; a route added before that is lost,
    # and one added before the file's import policy exists escapes it (RECIPES).
    daemon.await_ready(node.name, pid, d / f"{PID_NAME}.log",
                       lambda: _configured(host, node, d), "gobgpd")
    _refuse_dropped_policy(config, d / f"{PID_NAME}.log")
    for prefix in node.announces:
        family = "ipv6" if ":" in prefix else "ipv4"
        host.run(node.name, ["gobgp", "--target", api(d), "global", "rib", "add", "-a", family,
                             prefix, "origin", "igp"])
    fib_sync.spawn(host, node.name, d, "gobgp", api(d))


# gobgpd 3.10 logs this and goes on with no routing policy at all (`--dry-run` passes the file):
# a configuration whose filters silently vanished must not be judged as if they held.
_POLICY_DROPPED = "failed to create routing policy"


def _refuse_dropped_policy(config: Path, log: Path) -> None:
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return
    for line in text.splitlines():
        if _POLICY_DROPPED in line:
            raise TopologyError(str(config), [Problem(
                "", f"gobgpd started without any routing policy: {line.strip()[-300:]} "
                    f"(e.g. two statements or definitions with the same name)",
                None, "NODE-CONFIG")])


def _configured(host: Host, node: Node, d: Path) -> bool:
    if not (d / "api.sock").exists():
        return False
    try:
        return bool(json.loads(run_quietly(host, node.name, gobgp(d, "global")) or "{}")
                    .get("asn"))
    except ValueError:
        return False


# --- observation -----------------------------------------------------------------------------

# apipb.PeerState.SessionState (gobgp.proto); 0 is UNKNOWN.
_STATES = {0: "Idle", 1: "Idle", 2: "Connect", 3: "Active", 4: "OpenSent", 5: "OpenConfirm",
           6: "Established"}
_AFI = {1: "ipv4", 2: "ipv6"}
ADMIN_PFX_CT = 2      # apipb.PeerState.AdminState: shut down by its prefix limit


def parse_neighbors(node: str, text: str | None) -> RouterView:
    """`gobgp -j neighbor`: state, received/accepted counts and prefix limit per neighbor."""
    if text is None:
        return RouterView(node, "gobgp", (), answered=False)
    try:
        data = json.loads(text) if text.strip() else []
    except ValueError:
        data = []
    found = []
    for peer in data if isinstance(data, list) else []:
        conf = peer.get("conf") or {}
        state = peer.get("state") or {}
        address = state.get("neighbor_address") or conf.get("neighbor_address")
        if not address:
            continue
        received = accepted = 0
        limits, families = [], []
        for afi_safi in peer.get("afi_safis") or []:
            family = ((afi_safi.get("config") or {}).get("family") or {})
            if family.get("safi", 1) == 1 and family.get("afi") in _AFI:
                families.append(_AFI[family["afi"]])
            counts = afi_safi.get("state") or {}
            received += int(counts.get("received") or 0)
            accepted += int(counts.get("accepted") or 0)
            limit = (afi_safi.get("prefix_limits") or {}).get("max_prefixes")
            if limit:
                limits.append(int(limit))
        found.append(Neighbor(
            address=address,
            state=_STATES.get(int(state.get("session_state") or 0), "Idle"),
            remote_asn=as_int(conf.get("peer_asn") or state.get("peer_asn")),
            received=received, accepted=accepted,
            max_prefix=min(limits) if limits else None,
            families=tuple(families)))
    return RouterView(node, "gobgp", tuple(found))


def _rib(text: str | None) -> dict[str, list]:
    try:
        data = json.loads(text or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def parse_routes(text: str | None) -> frozenset[str]:
    """`gobgp -j global rib -a FAMILY`: a mapping of prefix to its paths."""
    return frozenset(prefix for prefix, paths in _rib(text).items() if paths)


def rib_commands(socket: str) -> list[list[str]]:
    """For fib_sync: both families' tables (each path marked best or not)."""
    return [gobgp(socket, "global", "rib", "-a", family) for family in ("ipv4", "ipv6")]


def best_routes(text: str) -> dict[str, str]:
    """prefix -> next hop of each best path learned from a neighbor (fib_sync); the NEXT_HOP
    attribute (type 3) for IPv4, MP_REACH_NLRI's (type 14, RFC 4760) for IPv6."""
    best = {}
    for prefix, paths in _rib(text).items():
        for path in paths or []:
            if not path.get("best") or not path.get("neighbor-ip"):
                continue
            hops = [a.get("nexthop") for a in path.get("attrs") or [] if a.get("type") in (3, 14)]
            hop = next((h for h in hops if h and h not in ("0.0.0.0", "::")), None)
            if hop:
                best[prefix] = hop
    return best


@register
class GoBgp:
    software = "gobgp"
    title = "GoBGP"
    roles = frozenset({Role.PEER_ROUTER})
    config_name = "gobgpd.toml"
    daemons = (PID_NAME, "fib_sync")       # their pid files (emulator.nodes.liveness)

    def render(self, plan: Plan, node: Node, d: Path) -> str:
        return render(plan, node)

    def check_config(self, path: Path) -> list[ConfigProblem]:
        return check_config(path)

    def start(self, host: Host, plan: Plan, node: Node, d: Path) -> None:
        start(host, plan, node, d)

    def observe(self, host: Host, node: Node, d: Path) -> RouterView:
        return parse_neighbors(node.name, run_quietly(host, node.name, gobgp(d, "neighbor")))

    def routes(self, host: Host, node: Node, d: Path) -> frozenset[str]:
        found: set[str] = set()
        for family in ("ipv4", "ipv6"):
            found |= parse_routes(run_quietly(host, node.name,
                                              gobgp(d, "global", "rib", "-a", family)))
        return frozenset(found)

    def control(self, d: Path, *command: str) -> list[str]:
        """gobgp on this node's API socket (`neighbor` when no command is given)."""
        return control.gobgp_control(d, *command)

    def originate(self, host: Host, plan: Plan, node: Node, d: Path, prefix: str,
                  announce: bool) -> None:
        control.gobgp_originate(host, node, d, prefix, announce)

