"""Fault injection: `mapslab fail SCENARIO TARGET` and `mapslab recover`.

Each injected fault is recorded in the lab's directory before it is applied, so that `recover`
(or `down`) can undo it from another process.

  member-down     one LAG member loses carrier (its veth is set down on the peer side)
  member-silent   one member stays up but its LACPDUs are dropped on both ends
                  (nftables netdev egress, ether type 0x8809, IEEE 802.3 Annex 57A slow protocols)
  lag-down        every member of a LAG loses carrier
  peer-router-down  a peer router stops: daemons killed, interfaces down
  edge-down       a Microsoft edge router stops: ExaBGP killed, interfaces down
  location-down   every peer router and edge router of a location stops
  lacp-mismatch   one member is given another aggregation key on the peer side, so the partner
                  cannot aggregate it (IEEE 802.1AX-2014 6.4.14, Selection Logic)
"""
from __future__ import annotations

import json
import os
import signal
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from emulator.nodes import exabgp, frr
from emulator.core.errors import FaultError, RuntimeUnavailable
from emulator.plan.model import Lag, Role

SCENARIOS = ("member-down", "member-silent", "lag-down", "peer-router-down", "edge-down",
             "location-down", "lacp-mismatch")
SLOW_PROTOCOLS = 0x8809


@dataclass(frozen=True)
class Fault:
    scenario: str
    target: str
    member: int
    injected_at: float


def _faults_file(lab) -> Path:
    return lab.dir.path / "faults.json"


def active(lab) -> list[Fault]:
    try:
        return [Fault(**f) for f in json.loads(_faults_file(lab).read_text())]
    except FileNotFoundError:
        return []


def _record(lab, faults: list[Fault]) -> None:
    _faults_file(lab).write_text(json.dumps([asdict(f) for f in faults], indent=2))


def _lag(lab, name: str) -> Lag:
    for lag in lab.plan.lags:
        if lag.name == name:
            return lag
    raise FaultError(f"no LAG named {name!r}; LAGs: {', '.join(l.name for l in lab.plan.lags)}")


def _member(lag: Lag, member: int):
    if not 1 <= member <= len(lag.members):
        raise FaultError(f"{lag.name} has members 1-{len(lag.members)}, not {member}")
    return lag.members[member - 1]


def _interfaces(lab, node: str) -> list[str]:
    names = []
    for lag in lab.plan.lags_of(node):
        names += [m.a_ifname if node == lag.a_node else m.b_ifname for m in lag.members]
    if lab.plan.lan_port(node):
        names.append(lab.plan.lan_port(node).ifname)
    return names


def _set_links(lab, node: str, ifnames: list[str], state: str) -> None:
    for ifname in ifnames:
        lab.runtime.run(node, ["ip", "link", "set", ifname, state])


def _kill_pidfiles(paths: list[Path]) -> None:
    for path in paths:
        try:
            os.kill(int(path.read_text().split()[0]), signal.SIGKILL)
        except (OSError, ValueError, IndexError):
            pass


def _nft_table(ifname: str) -> str:
    return f"lacpcut_{ifname}"


def _targets(lab, scenario: str, target: str) -> list[str]:
    """The nodes a router-level scenario stops."""
    plan = lab.plan
    if scenario == "location-down":
        nodes = [n.name for n in plan.nodes if n.location == target
                 and n.role in (Role.PEER_ROUTER, Role.EDGE)]
        if not nodes:
            raise FaultError(f"no routers at location {target!r}")
        return nodes
    role = Role.PEER_ROUTER if scenario == "peer-router-down" else Role.EDGE
    if target not in {n.name for n in plan.nodes_with(role)}:
        raise FaultError(f"{target!r} is not a {role.value}")
    return [target]


def inject(lab, scenario: str, target: str, member: int = 1) -> Fault:
    if scenario not in SCENARIOS:
        raise FaultError(f"unknown scenario {scenario!r}; one of {', '.join(SCENARIOS)}")
    fault = Fault(scenario, target, member, time.time())
    faults = active(lab)
    _record(lab, faults + [fault])
    if scenario in ("member-down", "member-silent", "lacp-mismatch"):
        lag = _lag(lab, target)
        m = _member(lag, member)
        if scenario == "member-down":
            _set_links(lab, lag.a_node, [m.a_ifname], "down")
        elif scenario == "member-silent":
            for node, ifname in ((lag.a_node, m.a_ifname), (lag.b_node, m.b_ifname)):
                # An ingress rule comes too late: OVS's packet socket sees the frame first.
                rules = (f"table netdev {_nft_table(ifname)} {{\n chain out {{\n"
                         f"  type filter hook egress device \"{ifname}\" priority 0;\n"
                         f"  ether type 0x{SLOW_PROTOCOLS:04x} counter drop\n }}\n}}\n")
                lab.runtime.run(node, ["sh", "-c", f"printf '%s' '{rules}' | nft -f -"])
        else:
            if lab.driver.name != "openvswitch":
                raise RuntimeUnavailable("lacp-mismatch needs per-member aggregation keys "
                                         "(Open vSwitch); kernel bonds have one key per bond")
            lab.runtime.run(lag.a_node, lab.driver._vsctl(
                lag.a_node, "set", "interface", m.a_ifname,
                "other_config:lacp-aggregation-key=4093"))
    elif scenario == "lag-down":
        lag = _lag(lab, target)
        _set_links(lab, lag.a_node, [m.a_ifname for m in lag.members], "down")
    else:
        for node in _targets(lab, scenario, target):
            # Links first, so the dead router's TCP sockets close silently: its neighbours
            # notice by their hold timers (RFC 4271 6.5), as they would a power failure.
            _set_links(lab, node, _interfaces(lab, node), "down")
            d = lab.node_dir(node)
            if lab.plan.node(node).role is Role.PEER_ROUTER:
                _kill_pidfiles([d / "bgpd.pid", d / "zebra.pid"])
            else:
                _kill_pidfiles(sorted(d.glob("*/exabgp.pid")))
    lab.dir.event("fault", scenario=scenario, target=target, member=member)
    return fault


def recover(lab) -> list[Fault]:
    """Undo every recorded fault, newest first; BGP comes back the way it came up."""
    from emulator.lab.lifecycle import edge_automation
    faults = active(lab)
    for fault in reversed(faults):
        if fault.scenario in ("member-down", "member-silent", "lacp-mismatch", "lag-down"):
            lag = _lag(lab, fault.target)
            m = _member(lag, fault.member)
            if fault.scenario == "member-down":
                _set_links(lab, lag.a_node, [m.a_ifname], "up")
            elif fault.scenario == "lag-down":
                _set_links(lab, lag.a_node, [x.a_ifname for x in lag.members], "up")
            elif fault.scenario == "member-silent":
                for node, ifname in ((lag.a_node, m.a_ifname), (lag.b_node, m.b_ifname)):
                    lab.runtime.run(node, ["nft", "delete", "table", "netdev", _nft_table(ifname)],
                                    check=False)
            else:
                lab.runtime.run(lag.a_node, lab.driver._vsctl(
                    lag.a_node, "remove", "interface", m.a_ifname, "other_config",
                    "lacp-aggregation-key"))
        else:
            for node in _targets(lab, fault.scenario, fault.target):
                _set_links(lab, node, _interfaces(lab, node), "up")
                spec = lab.plan.node(node)
                if spec.role is Role.PEER_ROUTER:
                    frr.start(lab.runtime, lab.plan, spec, lab.node_dir(node))
                else:
                    if lab.plan.links_of(node):
                        exabgp.start_internet(lab.runtime, lab.plan, spec,
                                              lab.node_dir(node) / "internet")
                    for lag in lab.plan.lags_of(node):
                        edge_automation(lab, lag)
        lab.dir.event("recover", scenario=fault.scenario, target=fault.target,
                      member=fault.member)
    _record(lab, [])
    return faults
