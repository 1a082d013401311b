"""Look inside a running lab's node: the argv that runs a command in its network namespace, or
the router program's own CLI with the lab's sockets chosen (vtysh for FRR, birdc for BIRD,
bgpctl for OpenBGPD, gobgp for GoBGP; the node kind says: `control`). A node without a router
CLI (a Microsoft edge: ExaBGP runs without its API pipes; the exchange LAN) opens a shell.
"""
from __future__ import annotations

import os

from emulator.core.errors import UsageError
from emulator.lab.lifecycle import Lab
from emulator.nodes import registry
from emulator.plan.model import Role
from emulator.runtime.netns import namespace

SHELL = "/bin/sh"


def router_cli(lab: Lab, node_name: str, *command: str) -> list[str] | None:
    """The node's router CLI (with one command), or None where it has none."""
    node = lab.plan.node(node_name)
    if node.role in (Role.EDGE, Role.SWITCH):
        return None
    kind = registry.kind_of(node)
    control = getattr(kind, "control", None)
    return control(lab.node_dir(node_name), *command) if control else None


def argv(lab: Lab, node_name: str, command: list[str]) -> list[str]:
    """What `mapslab exec` runs: the command in the node, else its router CLI, else a shell."""
    if node_name not in {n.name for n in lab.plan.nodes}:
        raise UsageError(f"no node {node_name!r} in lab {lab.plan.lab!r} (nodes: "
                         f"{', '.join(n.name for n in lab.plan.nodes)})")
    inner = command or router_cli(lab, node_name) or [os.environ.get("SHELL", SHELL)]
    return ["ip", "netns", "exec", namespace(lab.plan.lab, node_name), *inner]
