"""The containerlab runtime: the lab plan as a containerlab topology, node files and images.

render() writes, all paths relative to its output directory (containerlab resolves binds against
the topology file), so that one plan renders byte-identical files on any machine:

  <lab>.clab.yml             the topology: linux nodes; each LAG member a point-to-point link
  nodes/<node>/start.sh      run by containerlab `exec` once the links exist: LAG bonds, LAN
                             port, loopback endpoints, then the node's daemons
  nodes/<peer>/frr/          bgpd.conf, zebra.conf, daemons, vtysh.conf   → /etc/frr
  nodes/<rs|member>/bird/    bird.conf                                     → /etc/bird
  nodes/<edge>/<lagN>/       exabgp.conf, agent.json, configure-bgp.sh     → /maps-lab/<lagN>

Inside a container: /maps-lab is the node's directory (read-only), /var/lib/maps-lab its run state
(events.jsonl, per LAG routes.json and logs). The exchange LAN is a linux node holding a bridge,
not containerlab's `bridge` kind: that needs a bridge made beforehand on the host, and its port
names would live in the host's namespace, shared by every lab.

Peer routers may be replaced by the user's own image or NOS (NodeOverride, docs/containerlab.md).
"""
from __future__ import annotations

import dataclasses
import ipaddress
import json
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from emulator.core import wait
from emulator.nodes import bird, exabgp, frr
from emulator.core.errors import CommandFailed, PlanError, RuntimeUnavailable
# A node's sysctls come from the embedded runtime, so that the two runtimes cannot drift apart.
from emulator.lab.lifecycle import node_sysctls as embedded_sysctls
from emulator.runtime.lag.bond import BOND_MODE_8023AD, bond_request
from emulator.plan.model import Lag, Node, Plan, Role

HEADER = "# Rendered by maps-lab from the plan of lab {lab!r}: re-render instead of editing."

# Paths inside the containers.
NODE_DIR = "/maps-lab"
STATE_DIR = "/var/lib/maps-lab"
FRR_DIR = "/etc/frr"
FRR_RUN = "/var/run/frr"
FRR_LOG = "/var/log/frr"
BIRD_DIR = "/etc/bird"
BIRD_RUN = "/run/bird"
EDGE_VENV = "/opt/maps-lab/venv"
EDGE_SRC = "/opt/maps-lab/src"
BRIDGE = "br0"                 # the exchange LAN's bridge, named as in the embedded runtime
CONTAINER_PREFIX = "clab"      # containerlab's default: containers are clab-<lab>-<node>


@dataclass(frozen=True)
class Image:
    """A maps-lab image: its name and how to build it (paths relative to the repository)."""

    name: str
    dockerfile: str
    context: str

    def build_argv(self, registry: str = "") -> list[str]:
        return ["docker", "build", "-t", registry + self.name, "-f", self.dockerfile, self.context]


IMAGES: dict[str, Image] = {
    "frr": Image("maps-lab/frr:latest", "lab/images/frr/Dockerfile", "lab/images/frr"),
    "bird": Image("maps-lab/bird:latest", "lab/images/bird/Dockerfile", "lab/images/bird"),
    # The edge runs the edge agent from this repository: its context is the repository.
    "exabgp": Image("maps-lab/edge:latest", "lab/images/edge/Dockerfile", "."),
    "bridge": Image("maps-lab/ixlan:latest", "lab/images/ixlan/Dockerfile", "lab/images/ixlan"),
}


@dataclass(frozen=True)
class NodeOverride:
    """The user's own peer router: another image, or another containerlab kind (a NOS).

    kind            containerlab kind (default linux); any other kind is the user's to configure
    image           container image (needed with any kind but linux)
    startup_config  a config file for a NOS kind; copied to nodes/<node>/startup/ and referenced
    interfaces      plan interface name → the NOS's name in link endpoints (cEOS eth1, SR Linux
                    e1-1, ...); unnamed ones keep the plan's name
    A linux node with only another image keeps maps-lab's binds and start.sh (the image must have
    iproute2, FRR under /usr/lib/frr and a frr user); otherwise the node's own files under
    nodes/<node>/ are the reference its configuration must match, and are not mounted.
    """

    kind: str | None = None
    image: str | None = None
    startup_config: Path | None = None
    interfaces: Mapping[str, str] = field(default_factory=dict)

    @property
    def runs_our_files(self) -> bool:
        return self.kind in (None, "linux") and self.startup_config is None


_OVERRIDE_KEYS = {"kind", "image", "startup-config", "interfaces"}


def parse_overrides(raw: Mapping[str, Any], base: Path) -> dict[str, NodeOverride]:
    """YAML-shaped overrides ({node: {kind, image, startup-config, interfaces}}) → typed ones.

    Relative startup-config paths are taken relative to `base`. Every problem is collected.
    """
    found: dict[str, NodeOverride] = {}
    problems: list[str] = []
    for name, entry in raw.items():
        if not isinstance(entry, Mapping):
            problems.append(f"{name}: expected a mapping of {sorted(_OVERRIDE_KEYS)}")
            continue
        unknown = set(entry) - _OVERRIDE_KEYS
        if unknown:
            problems.append(f"{name}: unknown field(s) {sorted(unknown)}")
        interfaces = entry.get("interfaces") or {}
        if not isinstance(interfaces, Mapping):
            problems.append(f"{name}.interfaces: expected plan-name: nos-name pairs")
            interfaces = {}
        startup = entry.get("startup-config")
        found[str(name)] = NodeOverride(
            entry.get("kind"), entry.get("image"),
            None if startup is None else (base / str(startup)),
            {str(k): str(v) for k, v in interfaces.items()})
    if problems:
        raise PlanError("containerlab overrides: " + "; ".join(problems))
    return found


# --- What a rendered lab holds, read back from its files -----------------------------------

@dataclass(frozen=True, order=True)
class Link:
    """A point-to-point link, endpoints "node:ifname" in sorted order."""

    a: str
    b: str

    @classmethod
    def of(cls, one: str, other: str) -> Link:
        return cls(*sorted((one, other)))


@dataclass(frozen=True, order=True)
class Address:
    node: str
    ifname: str
    address: str            # with prefix length


@dataclass(frozen=True, order=True)
class Aggregate:
    """A bond (IEEE 802.1AX LAG) or the LAN bridge, with its member ports in order."""

    node: str
    ifname: str
    kind: str               # bond | bridge
    members: tuple[str, ...]


@dataclass(frozen=True, order=True)
class SessionEnd:
    """One side's view of a BGP session (RFC 4271): itself and its neighbor."""

    node: str
    local_asn: int
    local_address: str
    peer_asn: int
    peer_address: str


@dataclass(frozen=True)
class LabSummary:
    nodes: tuple[str, ...]
    links: tuple[Link, ...]
    addresses: tuple[Address, ...]
    aggregates: tuple[Aggregate, ...]
    sessions: tuple[SessionEnd, ...]


@dataclass(frozen=True)
class RenderedLab:
    lab: str
    out_dir: Path
    topology_file: Path
    files: tuple[str, ...]          # every file written, relative to out_dir
    summary: LabSummary             # read back from the written files


# --- Rendering ------------------------------------------------------------------------------

# ip-link(8) bond options for the RTM_NEWLINK attributes of emulator.runtime.lag.bond.bond_request, so
# both runtimes build the same bond. Values are the kernel's (include/uapi/linux/if_bonding.h).
_BOND_OPTIONS: dict[str, tuple[str, dict[int, str] | None]] = {
    "bond_mode": ("mode", {BOND_MODE_8023AD: "802.3ad"}),
    "bond_miimon": ("miimon", None),
    "bond_ad_lacp_rate": ("lacp_rate", {0: "slow", 1: "fast"}),
    "bond_ad_lacp_active": ("lacp_active", {0: "off", 1: "on"}),
    "bond_xmit_hash_policy": ("xmit_hash_policy", {0: "layer2", 1: "layer3+4", 2: "layer2+3"}),
    "bond_min_links": ("min_links", None),
}


def bond_options(request: Mapping[str, Any]) -> list[str]:
    """`ip link add NAME type bond ...` words for a bond request."""
    words: list[str] = []
    for key, value in request.items():
        if key in ("ifname", "kind"):
            continue
        if key not in _BOND_OPTIONS:
            raise PlanError(f"bond attribute {key} has no ip-link option (containerlab runtime)")
        option, names = _BOND_OPTIONS[key]
        # IEEE 802.1AX-2014 6.4.13: LACP active is the kernel's default; the option (Linux 5.15)
        # is written only for passive, so that older Docker hosts accept the rest.
        if key == "bond_ad_lacp_active" and value == 1:
            continue
        words += [option, names[value] if names else str(value)]
    return words


def _ends_of(lag: Lag, node: str) -> tuple[list[str], str, str, str]:
    """Member ifnames, IPv4, IPv6 and far node of a LAG as seen from one of its ends."""
    if node == lag.a_node:
        return [m.a_ifname for m in lag.members], lag.a_ipv4, lag.a_ipv6, lag.b_node
    return [m.b_ifname for m in lag.members], lag.b_ipv4, lag.b_ipv6, lag.a_node


def _address_lines(ifname: str, addresses: Sequence[str]) -> list[str]:
    # DAD would hold an IPv6 address tentative for a second; the lab's addresses are unique.
    return [f"ip address add {a} dev {ifname}" + (" nodad" if ":" in a else "") for a in addresses]


_PREAMBLE = """\
#!/bin/sh
{header}
# {node} ({role}{asn}): run by containerlab `exec` after the node's links are attached.
set -eu"""

_NO_BONDING = """\
no_bonding() {
  echo "maps-lab: cannot create the 802.3ad bond $1: on the Docker host run 'modprobe bonding'" >&2
  exit 1
}"""

_WAIT_SOCKET = """\
# Poll for a daemon's socket for a budget of seconds (emulator.wait daemon_socket).
wait_socket() {
  tries=$(( $2 * 10 ))
  while [ ! -S "$1" ]; do
    tries=$(( tries - 1 ))
    [ "$tries" -gt 0 ] || { echo "maps-lab: $1 did not appear within $2 s" >&2; exit 1; }
    sleep 0.1
  done
}"""


def _start_script(plan: Plan, node: Node) -> str:
    asn = f", AS{node.asn}" if node.asn is not None else ""
    lines = [_PREAMBLE.format(header=HEADER.format(lab=plan.lab), node=node.name,
                              role=node.role.value, asn=asn)]
    if plan.lags_of(node.name):
        lines.append(_NO_BONDING)
    if node.software == "frr":
        lines.append(_WAIT_SOCKET)
    for lag in plan.lags_of(node.name):
        members, v4, v6, far = _ends_of(lag, node.name)
        options = " ".join(bond_options(bond_request(lag, node.lacp)))
        mode = "passive" if "lacp_active off" in options else "active"
        lines += ["", f"# LAG {lag.name} to {far}: LACP {mode}, {lag.lacp_rate} rate "
                      f"(IEEE 802.1AX).",
                  "# A member is enslaved while down, then brought up.",
                  f"ip link add {lag.ifname} type bond {options} || no_bonding {lag.ifname}"]
        for member in members:
            lines += [f"ip link set {member} down", f"ip link set {member} master {lag.ifname}",
                      f"ip link set {member} up"]
        lines += _address_lines(lag.ifname, [v4, v6]) + [f"ip link set {lag.ifname} up"]
    port = plan.lan_port(node.name)
    if port is not None:
        lines += ["", f"# Exchange LAN port ({plan.lan_switch} {port.switch_ifname})"]
        lines += _address_lines(port.ifname, [port.ipv4, port.ipv6])
        lines.append(f"ip link set {port.ifname} up")
    for link in plan.links_of(node.name):
        ifname, v4, v6, far = ((link.a_ifname, link.a_ipv4, link.a_ipv6, link.b_node)
                               if link.a_node == node.name else
                               (link.b_ifname, link.b_ipv4, link.b_ipv6, link.a_node))
        lines += ["", f"# Routed link to {far}"] + _address_lines(ifname, [v4, v6])
        lines.append(f"ip link set {ifname} up")
    if node.endpoints:
        lines += ["", "# Endpoints on the loopback"] + _address_lines("lo", node.endpoints)
    if node.role is Role.SWITCH:
        ports = [p.switch_ifname for p in plan.lan_ports]
        lines += ["", "# The exchange LAN: one bridge, a port per node (never inside a LAG path)",
                  f"ip link add {BRIDGE} type bridge"]
        lines += [f"ip link set {p} master {BRIDGE} up" for p in ports]
        lines.append(f"ip link set {BRIDGE} up")
    lines += _daemon_lines(plan, node)
    return "\n".join(lines) + "\n"


def _daemon_lines(plan: Plan, node: Node) -> list[str]:
    budget = int(wait.BUDGETS["daemon_socket"])
    if node.software == "frr":
        common = f"-d -A 127.0.0.1 -P 0 -z {FRR_RUN}/zserv.api"
        return [
            "",
            "# FRR: zebra, then bgpd once zebra's zserv socket exists (bgpd retries only after",
            "# 10 s). An FRR image that starts FRR itself from /etc/frr/daemons is left alone.",
            f"if [ ! -S {FRR_RUN}/zserv.api ]; then",
            f"  install -d -o frr -g frr {FRR_RUN} {FRR_LOG}",
            f"  /usr/lib/frr/zebra {common} -f {FRR_DIR}/zebra.conf -i {FRR_RUN}/zebra.pid"
            f" --log file:{FRR_LOG}/zebra.log",
            f"  wait_socket {FRR_RUN}/zserv.api {budget}",
            f"  /usr/lib/frr/bgpd {common} -f {FRR_DIR}/bgpd.conf -i {FRR_RUN}/bgpd.pid"
            f" --log file:{FRR_LOG}/bgpd.log",
            "fi",
        ]
    if node.software == "bird":
        return ["", "# BIRD 2", f"install -d {BIRD_RUN}",
                f"bird -c {BIRD_DIR}/bird.conf -s {BIRD_RUN}/bird.ctl -P {BIRD_RUN}/bird.pid"]
    if node.role is Role.EDGE:
        lines = ["", "# The edge's automation configures BGP once a LAG is up (DESIGN.md, turn-up",
                 "# order): one ExaBGP per LAG, each started by its own waiter."]
        for lag in plan.lags_of(node.name):
            run = f"{STATE_DIR}/{lag.ifname}"
            lines += [f"install -d {run}",
                      f"setsid sh {NODE_DIR}/{lag.ifname}/configure-bgp.sh </dev/null "
                      f">>{run}/automation.log 2>&1 &"]
        if plan.links_of(node.name):
            lines += ["", "# Sessions to the internet: Microsoft's prefixes only, not gated on a LAG.",
                      f"install -d {STATE_DIR}/internet",
                      f"setsid sh {NODE_DIR}/internet/run.sh </dev/null "
                      f">>{STATE_DIR}/internet/run.log 2>&1 &"]
        return lines
    return []


# Members of a bond collecting and distributing, from the kernel's /proc/net/bonding report
# (drivers/net/bonding/bond_procfs.c): per member its MII status and the actor's port state,
# IEEE 802.1AX-2014 6.4.2.3 bit 4 Collecting, bit 5 Distributing. Prints "N member=up/STATE ...".
LACP_AWK = """\
/^Slave Interface:/ { member = $3; mii = ""; actor = 0 }
/^MII Status:/ && member != "" { mii = $3 }
/^details actor lacp pdu:/ { actor = 1 }
/^details partner lacp pdu:/ { actor = 0 }
actor && $1 == "port" && $2 == "state:" {
  up = (mii == "up" && int($3 / 16) % 2 == 1 && int($3 / 32) % 2 == 1)
  n += up; detail = detail " " member "=" (up ? "up" : "down") "/" $3; actor = 0
}
END { print n + 0 detail }"""

_CONFIGURE_BGP = """\
#!/bin/sh
{header}
# Edge automation of {node} for LAG {lag} ({ifname}). The page: "After the LAG comes up, our
# automated process configures BGP": ExaBGP starts once LACP is collecting and distributing on
# at least one member of {ifname}.
set -u
event() {{
  printf '{{"time": %s, "kind": "%s", "node": "{node}", "lag": "{lag}"%s}}\\n' \\
    "$(date +%s.%N)" "$1" "${{2:-}}" >>{state}/events.jsonl
}}
lacp_state() {{
  awk '
{awk}' /proc/net/bonding/{ifname} 2>/dev/null || echo "0 no /proc/net/bonding/{ifname}"
}}
# No budget here: like Microsoft's automation this waits as long as the LAG takes; whoever
# watches the lab judges with its lacp_setup budget.
last=""
while :; do
  state=$(lacp_state)
  [ "${{state%% *}}" -gt 0 ] && break
  [ "$state" = "$last" ] || echo "waiting for LACP on {ifname}: $state"
  last=$state
  sleep 0.2
done
echo "LAG {lag} up: $state"
event lag-up ", \\"members_up\\": ${{state%% *}}"
export exabgp_daemon_user=root exabgp_daemon_drop=false exabgp_api_cli=false
# Listen on the session addresses too, so that a restarted peer is accepted at once.
export exabgp_tcp_bind="{bind}"
export exabgp_log_destination={run}/exabgp.log
export PYTHONPATH={src}
event bgp-configured
exec {venv}/bin/exabgp server {conf}
"""


def _internet_addresses(plan: Plan, node: Node) -> list[str]:
    return [s.a_address for s in plan.sessions_of(node.name)
            if s.lag is None and s.a_node == node.name]


def _edge_files(plan: Plan, node: Node) -> dict[str, str]:
    files = {}
    if plan.links_of(node.name):
        run = f"{STATE_DIR}/internet"
        files["internet/exabgp.conf"] = exabgp.render_internet(plan, node)
        files["internet/run.sh"] = "\n".join([
            HEADER.format(lab=plan.lab),
            f"# {node.name}: ExaBGP (AS8075) towards the internet node.",
            "export exabgp_daemon_user=root exabgp_daemon_drop=false exabgp_api_cli=false",
            f"export exabgp_tcp_bind=\"{' '.join(_internet_addresses(plan, node))}\"",
            f"export exabgp_log_destination={run}/exabgp.log",
            f"exec {EDGE_VENV}/bin/exabgp server {NODE_DIR}/internet/exabgp.conf", ""])
    for lag in plan.lags_of(node.name):
        here, run = f"{NODE_DIR}/{lag.ifname}", f"{STATE_DIR}/{lag.ifname}"
        config = exabgp.agent_config(plan, node, lag, run, f"{STATE_DIR}/events.jsonl")
        files[f"{lag.ifname}/agent.json"] = json.dumps(dataclasses.asdict(config), indent=2) + "\n"
        files[f"{lag.ifname}/exabgp.conf"] = exabgp.render(
            plan, node, lag, f"{here}/agent.json", python=f"{EDGE_VENV}/bin/python")
        files[f"{lag.ifname}/configure-bgp.sh"] = _CONFIGURE_BGP.format(
            header=HEADER.format(lab=plan.lab), node=node.name, lag=lag.name, ifname=lag.ifname,
            state=STATE_DIR, awk=LACP_AWK, bind=" ".join(exabgp.local_addresses(plan, lag)),
            run=run, src=EDGE_SRC, venv=EDGE_VENV, conf=f"{here}/exabgp.conf")
    return files


def _frr_files(plan: Plan, node: Node) -> dict[str, str]:
    daemons = "\n".join([
        "# FRR daemons of " + node.name + ": read by FRR's own start-up (frrinit.sh, docker-start)",
        "# when the node runs an FRR image that starts FRR itself; maps-lab's image starts zebra",
        "# and bgpd from start.sh.",
        "bgpd=yes", "ospfd=no", "ospf6d=no", "ripd=no", "ripngd=no", "isisd=no", "pimd=no",
        "ldpd=no", "nhrpd=no", "eigrpd=no", "babeld=no", "sharpd=no", "pbrd=no", "bfdd=no",
        "fabricd=no", "vrrpd=no", "pathd=no", "staticd=no",
        "vtysh_enable=yes",
        'zebra_options="  -A 127.0.0.1 -s 90000000"',
        'bgpd_options="   -A 127.0.0.1"',
    ])
    return {
        "frr/bgpd.conf": frr.render_bgpd(plan, node, f"{FRR_LOG}/bgpd.log"),
        "frr/zebra.conf": f"hostname {node.name}\n",
        # Per-daemon configs, as the embedded runtime: no integrated frr.conf.
        "frr/vtysh.conf": "no service integrated-vtysh-config\n",
        "frr/daemons": daemons + "\n",
    }


def _node_files(plan: Plan, node: Node) -> dict[str, str]:
    files = {"start.sh": _start_script(plan, node)}
    if node.software == "frr":
        files |= _frr_files(plan, node)
    elif node.software == "bird":
        files["bird/bird.conf"] = bird.render(plan, node)
    elif node.role is Role.EDGE:
        files |= _edge_files(plan, node)
    return {f"nodes/{node.name}/{path}": text for path, text in files.items()}


def _sysctls(node: Node) -> dict[str, str]:
    """The embedded runtime's sysctls for the node, and IPv6 on: Docker may switch it off."""
    sysctls = dict(embedded_sysctls(node))
    if node.role is not Role.SWITCH:
        sysctls |= {"net.ipv6.conf.all.disable_ipv6": "0",
                    "net.ipv6.conf.default.disable_ipv6": "0"}
    return sysctls


def _binds(node: Node) -> list[str]:
    binds = [f"nodes/{node.name}:{NODE_DIR}:ro"]
    if node.software == "frr":
        binds.append(f"nodes/{node.name}/frr:{FRR_DIR}")
    elif node.software == "bird":
        binds.append(f"nodes/{node.name}/bird:{BIRD_DIR}")
    return binds


def _clab_node(plan: Plan, node: Node, override: NodeOverride | None, startup: str | None,
               registry: str) -> dict[str, Any]:
    labels: dict[str, str | int] = {"maps-lab.lab": plan.lab, "maps-lab.role": node.role.value}
    if node.asn is not None:
        labels["maps-lab.asn"] = node.asn
    if node.location:
        labels["maps-lab.location"] = node.location
    entry: dict[str, Any] = {"kind": "linux", "image": registry + IMAGES[node.software].name}
    if override is not None:
        entry["kind"] = override.kind or "linux"
        entry["image"] = override.image or entry["image"]
    if startup is not None:
        entry["startup-config"] = startup
    entry |= {"group": node.role.value, "labels": labels}
    if override is None or override.runs_our_files:
        entry |= {"sysctls": _sysctls(node), "binds": _binds(node),
                  "exec": [f"sh {NODE_DIR}/start.sh"]}
    if node.role is Role.EDGE:
        # The edge's BGP waits for its LAGs: start it after the peer routers have built theirs.
        peers = sorted({lag.a_node for lag in plan.lags_of(node.name)})
        if peers:
            entry["stages"] = {"configure": {"wait-for": [{"node": p, "stage": "configure"}
                                                          for p in peers]}}
    return entry


def _endpoint(node: str, ifname: str, overrides: Mapping[str, NodeOverride]) -> str:
    override = overrides.get(node)
    return f"{node}:{override.interfaces.get(ifname, ifname) if override else ifname}"


def _link_pairs(plan: Plan, overrides: Mapping[str, NodeOverride]) -> list[tuple[str, str]]:
    pairs = [(_endpoint(lag.a_node, m.a_ifname, overrides),
              _endpoint(lag.b_node, m.b_ifname, overrides))
             for lag in plan.lags for m in lag.members]
    pairs += [(_endpoint(p.node, p.ifname, overrides),
               _endpoint(plan.lan_switch, p.switch_ifname, overrides))
              for p in plan.lan_ports]
    pairs += [(_endpoint(link.a_node, link.a_ifname, overrides),
               _endpoint(link.b_node, link.b_ifname, overrides)) for link in plan.links]
    return pairs


class _Flow(list):
    """A YAML sequence written inline, items double-quoted (as containerlab's docs do)."""


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        return super().increase_indent(flow, False)


def _represent_flow(dumper: yaml.SafeDumper, value: _Flow) -> yaml.Node:
    items = [dumper.represent_scalar("tag:yaml.org,2002:str", str(v), style='"') for v in value]
    return yaml.SequenceNode("tag:yaml.org,2002:seq", items, flow_style=True)


_Dumper.add_representer(_Flow, _represent_flow)


def _topology_yaml(plan: Plan, overrides: Mapping[str, NodeOverride], startup: Mapping[str, str],
                   registry: str) -> str:
    nodes = {n.name: _clab_node(plan, n, overrides.get(n.name), startup.get(n.name), registry)
             for n in plan.nodes}
    links = [{"endpoints": _Flow(pair)} for pair in _link_pairs(plan, overrides)]
    document = {"name": plan.lab, "topology": {"nodes": nodes, "links": links}}
    body = yaml.dump(document, Dumper=_Dumper, sort_keys=False, width=100)
    return HEADER.format(lab=plan.lab) + "\n# Deploy: containerlab deploy -t " \
        f"{plan.lab}.clab.yml (docs/containerlab.md)\n" + body


def _check_overrides(plan: Plan, overrides: Mapping[str, NodeOverride]) -> None:
    routers = {n.name for n in plan.nodes_with(Role.PEER_ROUTER)}
    problems = []
    for name, override in overrides.items():
        if name not in routers:
            problems.append(f"{name!r} is not a peer router of lab {plan.lab!r} "
                            f"(peer routers: {', '.join(sorted(routers))})")
            continue
        if override.kind not in (None, "linux") and not override.image:
            problems.append(f"{name}: kind {override.kind} needs an image")
        if override.kind in (None, "linux") and override.startup_config is not None:
            problems.append(f"{name}: containerlab applies startup-config to NOS kinds only; "
                            f"a linux node is configured by binds and exec")
        if override.startup_config is not None and not Path(override.startup_config).is_file():
            problems.append(f"{name}: startup-config {override.startup_config} is not a file")
        known = {m.a_ifname if lag.a_node == name else m.b_ifname
                 for lag in plan.lags_of(name) for m in lag.members}
        port = plan.lan_port(name)
        known |= {port.ifname} if port else set()
        for ifname in override.interfaces:
            if ifname not in known:
                problems.append(f"{name}: interface {ifname!r} is not one of {sorted(known)}")
        renamed = list(override.interfaces.values())
        if len(set(renamed)) != len(renamed):
            problems.append(f"{name}: two interfaces renamed alike: {sorted(renamed)}")
    if problems:
        raise PlanError("containerlab overrides: " + "; ".join(problems))


def _clear(out_dir: Path) -> None:
    """Remove a previous rendering, never anything else."""
    ours = [p for p in out_dir.glob("*.clab.yml")
            if p.read_text(errors="replace").startswith(HEADER.split("{")[0])]
    if (out_dir / "nodes").exists() and not ours:
        raise PlanError(f"{out_dir} holds a nodes/ directory that maps-lab did not render; "
                        f"render into an empty directory")
    for path in ours:
        path.unlink()
    shutil.rmtree(out_dir / "nodes", ignore_errors=True)


def render(plan: Plan, out_dir: Path, overrides: Mapping[str, NodeOverride] | None = None,
           *, registry: str = "") -> RenderedLab:
    """Write the lab's containerlab topology and node files under out_dir.

    overrides: peer router name → NodeOverride. registry: prefix for maps-lab's image names
    (e.g. "ghcr.io/me/" for a cluster that pulls from a registry).
    """
    overrides = dict(overrides or {})
    _check_overrides(plan, overrides)
    out_dir = Path(out_dir)
    files: dict[str, str | bytes] = {}
    for node in plan.nodes:
        files |= _node_files(plan, node)
    startup: dict[str, str] = {}
    for name, override in sorted(overrides.items()):
        if override.startup_config is not None:
            source = Path(override.startup_config)
            startup[name] = f"nodes/{name}/startup/{source.name}"
            files[startup[name]] = source.read_bytes()
    topology_name = f"{plan.lab}.clab.yml"
    files[topology_name] = _topology_yaml(plan, overrides, startup, registry)

    out_dir.mkdir(parents=True, exist_ok=True)
    _clear(out_dir)
    for relative, content in files.items():
        path = out_dir / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        if relative.endswith(".sh"):
            path.chmod(0o755)
    return RenderedLab(plan.lab, out_dir, out_dir / topology_name, tuple(sorted(files)),
                       summarize(out_dir / topology_name))


# --- Reading a rendering back -----------------------------------------------------------------

_IP_ADDRESS = re.compile(r"^\s*ip address add (\S+) dev (\S+)", re.M)
_IP_BOND = re.compile(r"^\s*ip link add (\S+) type (bond|bridge)\b", re.M)
_IP_MASTER = re.compile(r"^\s*ip link set (\S+) master (\S+)", re.M)


def _script_facts(node: str, text: str) -> tuple[list[Address], list[Aggregate]]:
    addresses = [Address(node, ifname, address) for address, ifname in _IP_ADDRESS.findall(text)]
    masters = {name: kind for name, kind in _IP_BOND.findall(text)}
    members: dict[str, list[str]] = {name: [] for name in masters}
    for port, master in _IP_MASTER.findall(text):
        members.setdefault(master, []).append(port)
    aggregates = [Aggregate(node, name, masters.get(name, "?"), tuple(ports))
                  for name, ports in members.items()]
    return addresses, aggregates


def frr_session_ends(node: str, text: str, addresses: Sequence[Address]) -> list[SessionEnd]:
    """Sessions of a bgpd.conf; the local address is the node's in the neighbor's subnet."""
    router = re.search(r"^router bgp (\d+)", text, re.M)
    if router is None:
        raise PlanError(f"{node}: bgpd.conf has no 'router bgp'")
    asn = int(router.group(1))
    ends = []
    for peer, peer_asn in re.findall(r"^ neighbor (\S+) remote-as (\d+)", text, re.M):
        local = next((a.address.split("/")[0] for a in addresses if a.node == node
                      and ipaddress.ip_address(peer) in ipaddress.ip_interface(a.address).network),
                     "?")
        ends.append(SessionEnd(node, asn, local, int(peer_asn), peer))
    return ends


def bird_session_ends(node: str, text: str) -> list[SessionEnd]:
    pattern = r"^\s*local (\S+) as (\d+);\s*\n\s*neighbor (\S+) as (\d+);"
    return [SessionEnd(node, int(asn), local, int(peer_asn), peer)
            for local, asn, peer, peer_asn in re.findall(pattern, text, re.M)]


def exabgp_session_ends(node: str, text: str) -> list[SessionEnd]:
    ends = []
    for block in re.findall(r"^neighbor (\S+) \{(.*?)^\}", text, re.M | re.S):
        peer, body = block

        def value(key: str) -> str:
            found = re.search(rf"^\s*{key} (\S+);", body, re.M)
            return found.group(1) if found else "?"

        ends.append(SessionEnd(node, int(value("local-as")), value("local-address"),
                               int(value("peer-as")), peer))
    return ends


def summarize(topology_file: Path) -> LabSummary:
    """Nodes, links, addresses, aggregates and sessions, as the rendered files define them."""
    out_dir = Path(topology_file).parent
    document = yaml.safe_load(Path(topology_file).read_text())
    nodes = tuple(document["topology"]["nodes"])
    links = sorted(Link.of(*entry["endpoints"]) for entry in document["topology"].get("links", []))
    addresses: list[Address] = []
    aggregates: list[Aggregate] = []
    sessions: list[SessionEnd] = []
    for name in nodes:
        directory = out_dir / "nodes" / name
        script = directory / "start.sh"
        if script.exists():
            found, bundles = _script_facts(name, script.read_text())
            addresses += found
            aggregates += bundles
    for name in nodes:
        directory = out_dir / "nodes" / name
        if (directory / "frr" / "bgpd.conf").exists():
            sessions += frr_session_ends(name, (directory / "frr" / "bgpd.conf").read_text(),
                                         addresses)
        if (directory / "bird" / "bird.conf").exists():
            sessions += bird_session_ends(name, (directory / "bird" / "bird.conf").read_text())
        for conf in sorted(directory.glob("*/exabgp.conf")):
            sessions += exabgp_session_ends(name, conf.read_text())
    return LabSummary(nodes, tuple(links), tuple(sorted(addresses)), tuple(sorted(aggregates)),
                      tuple(sorted(sessions)))


def plan_summary(plan: Plan, overrides: Mapping[str, NodeOverride] | None = None) -> LabSummary:
    """What a rendering of the plan must hold, computed from the plan alone."""
    overrides = overrides or {}
    addresses: list[Address] = []
    aggregates: list[Aggregate] = []
    for lag in plan.lags:
        for node in (lag.a_node, lag.b_node):
            members, v4, v6, _ = _ends_of(lag, node)
            addresses += [Address(node, lag.ifname, v4), Address(node, lag.ifname, v6)]
            aggregates.append(Aggregate(node, lag.ifname, "bond", tuple(members)))
    for port in plan.lan_ports:
        addresses += [Address(port.node, port.ifname, port.ipv4),
                      Address(port.node, port.ifname, port.ipv6)]
    for link in plan.links:
        addresses += [Address(link.a_node, link.a_ifname, link.a_ipv4),
                      Address(link.a_node, link.a_ifname, link.a_ipv6),
                      Address(link.b_node, link.b_ifname, link.b_ipv4),
                      Address(link.b_node, link.b_ifname, link.b_ipv6)]
    for node in plan.nodes:
        addresses += [Address(node.name, "lo", e) for e in node.endpoints]
    aggregates.append(Aggregate(plan.lan_switch, BRIDGE, "bridge",
                                tuple(p.switch_ifname for p in plan.lan_ports)))
    sessions = []
    for s in plan.sessions:
        sessions += [SessionEnd(s.a_node, s.a_asn, s.a_address, s.b_asn, s.b_address),
                     SessionEnd(s.b_node, s.b_asn, s.b_address, s.a_asn, s.a_address)]
    return LabSummary(tuple(n.name for n in plan.nodes),
                      tuple(sorted(Link.of(a, b) for a, b in _link_pairs(plan, overrides))),
                      tuple(sorted(addresses)), tuple(sorted(aggregates)), tuple(sorted(sessions)))


# --- Deploying where Docker and containerlab are ----------------------------------------------

Runner = Callable[..., "subprocess.CompletedProcess[str]"]
Progress = Callable[[str], None]


def _run(argv: Sequence[str], timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout)


def container(lab: str, node: str) -> str:
    return f"{CONTAINER_PREFIX}-{lab}-{node}"


def blocker(run: Runner = _run) -> str | None:
    """Why containerlab labs cannot be deployed from here, or None."""
    for tool in ("docker", "containerlab"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (the containerlab runtime needs Docker and " \
                   f"containerlab)"
    try:
        result = run(["docker", "info"], timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"`docker info` failed: {exc}"
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        return f"`docker info` exited {result.returncode}: {last}"
    return None


def missing_images(rendered: RenderedLab, run: Runner = _run) -> list[str]:
    """Images the topology names that the local Docker does not have."""
    document = yaml.safe_load(rendered.topology_file.read_text())
    images = sorted({n["image"] for n in document["topology"]["nodes"].values() if n.get("image")})
    return [i for i in images if run(["docker", "image", "inspect", i], timeout=30).returncode != 0]


def deploy_argv(topology_file: Path) -> list[str]:
    return ["containerlab", "deploy", "--topo", str(topology_file), "--reconfigure"]


def destroy_argv(topology_file: Path) -> list[str]:
    return ["containerlab", "destroy", "--topo", str(topology_file), "--cleanup"]


@dataclass(frozen=True)
class EdgeView:
    """What one edge's events say: LAGs up (edge automation) and peers Established (agent)."""

    node: str
    lags_up: frozenset[str]
    peers_up: frozenset[str]
    observed_at: float


def observe_edges(plan: Plan, run: Runner = _run) -> list[EdgeView]:
    views = []
    for node in plan.nodes_with(Role.EDGE):
        result = run(["docker", "exec", container(plan.lab, node.name), "cat",
                      f"{STATE_DIR}/events.jsonl"], timeout=15)
        lags: set[str] = set()
        peers: dict[str, str] = {}
        for line in result.stdout.splitlines() if result.returncode == 0 else []:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if event.get("kind") == "lag-up":
                lags.add(str(event.get("lag")))
            elif event.get("kind") == "bgp-state":
                peers[str(event.get("peer"))] = str(event.get("state"))
        views.append(EdgeView(node.name, frozenset(lags),
                              frozenset(p for p, s in peers.items() if s == "up"), time.time()))
    return views


def missing_lags(plan: Plan, views: list[EdgeView]) -> str:
    up = {(v.node, lag) for v in views for lag in v.lags_up}
    return "\n".join(f"{lag.b_node} {lag.ifname} ({lag.name}): LACP not collecting/distributing"
                     for lag in plan.lags if (lag.b_node, lag.name) not in up)


def missing_sessions(plan: Plan, views: list[EdgeView]) -> str:
    up = {(v.node, peer) for v in views for peer in v.peers_up}
    return "\n".join(f"{s.b_node} {s.name} ({s.a_address}): not Established"
                     for s in plan.sessions if s.interconnect and (s.b_node, s.a_address) not in up)


def up(plan: Plan, out_dir: Path, overrides: Mapping[str, NodeOverride] | None = None,
       progress: Progress = lambda _: None, run: Runner = _run) -> RenderedLab:
    """Render, `containerlab deploy`, then wait until every LAG is up and every interconnect
    session Established, as the edges report them. On any failure the lab is destroyed."""
    reason = blocker(run)
    if reason:
        raise RuntimeUnavailable(reason)
    rendered = render(plan, out_dir, overrides)
    progress(f"rendered {rendered.topology_file}")
    missing = missing_images(rendered, run)
    if missing:
        builds = "; ".join(" ".join(i.build_argv()) for i in IMAGES.values()
                           if i.name in missing)
        raise RuntimeUnavailable(f"images not built: {', '.join(missing)}"
                                 + (f" (from the repository root: {builds})" if builds else ""))
    try:
        result = run(deploy_argv(rendered.topology_file), timeout=900)
        if result.returncode != 0:
            raise CommandFailed(deploy_argv(rendered.topology_file), result.returncode,
                                result.stderr)
        progress(f"containerlab deployed {len(plan.nodes)} nodes")
        wait.until("lacp_setup", lambda: observe_edges(plan, run),
                   lambda v: missing_lags(plan, v))
        progress(f"{len(plan.lags)} LAGs up; the edges configured BGP")
        wait.until("ebgp_session", lambda: observe_edges(plan, run),
                   lambda v: missing_sessions(plan, v))
    except BaseException:
        progress("failed: destroying the lab")
        run(destroy_argv(rendered.topology_file), timeout=300)
        raise
    progress("every interconnect session Established")
    return rendered


def down(topology_file: Path, run: Runner = _run) -> None:
    result = run(destroy_argv(topology_file), timeout=300)
    if result.returncode != 0:
        raise CommandFailed(destroy_argv(topology_file), result.returncode, result.stderr)
