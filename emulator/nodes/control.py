"""Each router program's own control client with a node's sockets chosen, and announcing or
withdrawing one prefix in a running program (`mapslab exec`, `mapslab announce|withdraw`).

The node kinds answer through these (their `control` and `originate` methods); a change is made
the way the program itself offers it at run time: FRR's vtysh configuration, OpenBGPD's
`bgpctl network add|delete`, GoBGP's `global rib add|del`, and for BIRD (which has no runtime
route command) the lab-made configuration rendered again and `birdc configure`.
"""
from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path

from emulator.nodes.base import Host
from emulator.plan.model import Node


def family(prefix: str) -> str:
    return "ipv6" if ":" in prefix else "ipv4"


# ---- FRR ----

def frr_control(d: Path, *command: str) -> list[str]:
    return ["vtysh", "--vty_socket", str(d), *(["-c", " ".join(command)] if command else [])]


def frr_originate(host: Host, node: Node, d: Path, prefix: str, announce: bool) -> None:
    host.run(node.name, ["vtysh", "--vty_socket", str(d), "-c", "configure terminal",
                         "-c", f"router bgp {node.asn}",
                         "-c", f"address-family {family(prefix)} unicast",
                         "-c", f"{'' if announce else 'no '}network {prefix}"])


# ---- BIRD ----

def bird_control(d: Path, *command: str) -> list[str]:
    return ["birdc", "-s", str(d / "bird.ctl"), *command]


ANNOUNCES = "announces.json"


def announced(node: Node, d: Path) -> tuple[str, ...]:
    """What the node originates now: the plan's prefixes, as changed in the running lab."""
    try:
        return tuple(json.loads((d / ANNOUNCES).read_text()))
    except (OSError, ValueError):
        return node.announces


def bird_originate(host: Host, node: Node, d: Path, prefix: str, announce: bool,
                   render: Callable[[Node], str]) -> None:
    """BIRD's configuration rendered again (by `render`) with the prefix added or removed."""
    now = [p for p in announced(node, d) if p != prefix] + ([prefix] if announce else [])
    (d / ANNOUNCES).write_text(json.dumps(now) + "\n")
    (d / "bird.conf").write_text(render(dataclasses.replace(node, announces=tuple(now))))
    host.run(node.name, bird_control(d, "configure"))


# ---- OpenBGPD ----

def openbgpd_control(socket: Path, *command: str) -> list[str]:
    return ["bgpctl", "-s", str(socket), *(command or ("show",))]


def openbgpd_originate(host: Host, node: Node, socket: Path, prefix: str, announce: bool) -> None:
    host.run(node.name, ["bgpctl", "-s", str(socket), "network",
                         "add" if announce else "delete", prefix])


# ---- GoBGP ----

def gobgp_control(d: Path, *command: str) -> list[str]:
    return ["gobgp", "--target", f"unix://{d / 'api.sock'}", *(command or ("neighbor",))]


def gobgp_originate(host: Host, node: Node, d: Path, prefix: str, announce: bool) -> None:
    host.run(node.name, ["gobgp", "--target", f"unix://{d / 'api.sock'}", "global", "rib",
                         "add" if announce else "del", "-a", family(prefix), prefix,
                         *(["origin", "igp"] if announce else [])])
