"""`mapslab contract`: what the lab provides each node and what the user's configuration must do."""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from emulator.core.errors import UsageError
from emulator.core.labdir import LabDir

if TYPE_CHECKING:
    from emulator.plan.contract import NodeContract


def render(c: NodeContract) -> str:
    source = f"own configuration {c.own_config}" if c.own_config else "lab-made configuration"
    out = [f"{c.node}  {c.role}  {c.software}  AS{c.asn}  router-id {c.router_id}  ({source})",
           "  interfaces the lab creates and addresses (use them as they are):"]
    for i in c.interfaces:
        extra = f"  members {' '.join(i.members)}; LACP {i.lacp}" if i.members else ""
        out.append(f"    {i.name:<6} {i.kind:<13} {' '.join(i.addresses)}{extra}")
        if i.note:
            out.append(f"           {i.note}")
    out.append("  BGP neighbors your configuration must set up:")
    for n in c.neighbors:
        out.append(f"    {n.address:<20} AS{n.remote_asn:<7} {n.family}  from {n.local_address:<18} "
                   f"over {n.over:<5} {n.purpose} ({n.peer})")
        if n.tcp_md5:
            out.append(f"      TCP MD5 signatures (RFC 2385), keyed with {n.tcp_md5}")
    if c.announce:
        out.append(f"  announce: {' '.join(c.announce)}")
    if c.expectations:
        out.append("  what the checks expect of it:")
        out += [f"    {e.rule:<22} {e.text}" for e in c.expectations]
    return "\n".join(out)


def write_configs(plan, found: list[NodeContract], out_dir: Path) -> list[Path]:
    """The lab's own configuration per node, as a starting point for the user's."""
    from emulator.nodes import registry
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for c in found:
        node = plan.node(c.node)
        kind = registry.kind_of(node)
        d = LabDir(plan.lab).path / "nodes" / node.name
        path = out_dir / f"{node.name}-{kind.config_name}"
        path.write_text(kind.render(plan, node, d))
        written.append(path)
    return written


def cmd_contract(args: argparse.Namespace) -> int:
    from emulator.plan.contract import contracts
    from emulator.plan.resolve import resolve
    from emulator.topology.loader import load
    path = Path(args.topology)
    plan = resolve(load(path), path.resolve().parent)
    found = contracts(plan, args.node)
    if args.node and not found:
        names = ", ".join(c.node for c in contracts(plan))
        raise UsageError(f"no node {args.node!r} to configure in {path} (nodes: {names})")
    if args.write_config:
        for written in write_configs(plan, found, Path(args.write_config)):
            print(f"wrote {written}")
        return 0
    if args.format == "json":
        print(json.dumps([c.to_json() for c in found], indent=2))
    else:
        print("\n\n".join(render(c) for c in found))
    return 0


def add_parser(sub) -> None:
    p = sub.add_parser("contract", help="what the lab provides each node, and what its "
                                        "configuration must do")
    p.add_argument("topology")
    p.add_argument("node", nargs="?", help="one node (default: every node the user configures)")
    p.add_argument("--format", choices=["text", "json"], default="text")
    p.add_argument("--write-config", metavar="DIR",
                   help="write the lab's default configuration per node into DIR")
    p.set_defaults(func=cmd_contract)
