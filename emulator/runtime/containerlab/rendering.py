"""The lab plan written for containerlab: the .clab.yml topology and every node's files."""
from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from emulator.core.errors import PlanError
from emulator.plan.model import Node, Plan, Role
from emulator.runtime.base import node_sysctls
from emulator.runtime.containerlab import programs
from emulator.runtime.containerlab.edge import edge_files
from emulator.runtime.containerlab.images import DOCKERIGNORE, image_of
from emulator.runtime.containerlab.layout import HEADER, NODE_DIR
from emulator.runtime.containerlab.overrides import NodeOverride, check_overrides, endpoint
from emulator.runtime.containerlab.start import start_script


@dataclass(frozen=True)
class RenderedLab:
    lab: str
    out_dir: Path
    topology_file: Path
    files: tuple[str, ...]          # every file written, relative to out_dir


def node_files(plan: Plan, node: Node) -> dict[str, str | bytes]:
    """Every file of one node, relative to the rendered directory."""
    files: dict[str, str | bytes] = {"start.sh": start_script(plan, node)}
    if programs.runs_program(node):
        files |= programs.program_files(plan, node)
    elif node.role is Role.EDGE:
        files |= edge_files(plan, node)
    return {f"nodes/{node.name}/{path}": content for path, content in files.items()}


def image_files(plan: Plan, overrides: Mapping[str, NodeOverride]) -> dict[str, str]:
    """The Dockerfiles of the rendered images the lab's nodes run (none for the shipped ones)."""
    files = {}
    for node in plan.nodes:
        image = image_of(node)
        override = overrides.get(node.name)
        if image.rendered and not (override and override.image):
            files[image.dockerfile] = image.dockerfile_text()
            files[image.dockerfile + ".dockerignore"] = DOCKERIGNORE
    return files


def _sysctls(node: Node) -> dict[str, str]:
    """The embedded runtime's sysctls for the node, and IPv6 on: Docker may switch it off."""
    sysctls = node_sysctls(node)
    if node.role is not Role.SWITCH:
        sysctls |= {"net.ipv6.conf.all.disable_ipv6": "0",
                    "net.ipv6.conf.default.disable_ipv6": "0"}
    return sysctls


def _clab_node(plan: Plan, node: Node, override: NodeOverride | None, startup: str | None,
               registry: str) -> dict[str, Any]:
    labels: dict[str, str | int] = {"maps-lab.lab": plan.lab, "maps-lab.role": node.role.value}
    if node.asn is not None:
        labels["maps-lab.asn"] = node.asn
    if node.location:
        labels["maps-lab.location"] = node.location
    entry: dict[str, Any] = {"kind": "linux", "image": registry + image_of(node).name}
    if override is not None:
        entry["kind"] = override.kind or "linux"
        entry["image"] = override.image or entry["image"]
    if startup is not None:
        entry["startup-config"] = startup
    entry |= {"group": node.role.value, "labels": labels}
    if override is None or override.runs_our_files:
        binds = [f"nodes/{node.name}:{NODE_DIR}:ro"]
        if programs.runs_program(node):
            binds += programs.binds(node)
        entry |= {"sysctls": _sysctls(node), "binds": binds, "exec": [f"sh {NODE_DIR}/start.sh"]}
    if node.role is Role.EDGE:
        # The edge's BGP waits for its LAGs: start it after the peer routers have built theirs.
        peers = sorted({lag.a_node for lag in plan.lags_of(node.name)})
        if peers:
            entry["stages"] = {"configure": {"wait-for": [{"node": p, "stage": "configure"}
                                                          for p in peers]}}
    return entry


def link_pairs(plan: Plan, overrides: Mapping[str, NodeOverride]) -> list[tuple[str, str]]:
    """Every link's two endpoints: LAG members, LAN ports, routed links, in the plan's order."""
    pairs = [(endpoint(lag.a_node, m.a_ifname, overrides),
              endpoint(lag.b_node, m.b_ifname, overrides))
             for lag in plan.lags for m in lag.members]
    pairs += [(endpoint(p.node, p.ifname, overrides),
               endpoint(plan.lan_switch, p.switch_ifname, overrides))
              for p in plan.lan_ports]
    pairs += [(endpoint(link.a_node, link.a_ifname, overrides),
               endpoint(link.b_node, link.b_ifname, overrides)) for link in plan.links]
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


def topology_yaml(plan: Plan, overrides: Mapping[str, NodeOverride],
                  startup: Mapping[str, str], registry: str) -> str:
    nodes = {n.name: _clab_node(plan, n, overrides.get(n.name), startup.get(n.name), registry)
             for n in plan.nodes}
    links = [{"endpoints": _Flow(pair)} for pair in link_pairs(plan, overrides)]
    document = {"name": plan.lab, "topology": {"nodes": nodes, "links": links}}
    body = yaml.dump(document, Dumper=_Dumper, sort_keys=False, width=100)
    return HEADER.format(lab=plan.lab) + "\n# Deploy: containerlab deploy -t " \
        f"{plan.lab}.clab.yml (docs/containerlab.md)\n" + body


def _clear(out_dir: Path) -> None:
    """Remove a previous rendering, never anything else."""
    ours = [p for p in out_dir.glob("*.clab.yml")
            if p.read_text(errors="replace").startswith(HEADER.split("{")[0])]
    if ((out_dir / "nodes").exists() or (out_dir / "images").exists()) and not ours:
        raise PlanError(f"{out_dir} holds a nodes/ or images/ directory that maps-lab did not "
                        f"render; render into an empty directory")
    for path in ours:
        path.unlink()
    shutil.rmtree(out_dir / "nodes", ignore_errors=True)
    shutil.rmtree(out_dir / "images", ignore_errors=True)


def render(plan: Plan, out_dir: Path, overrides: Mapping[str, NodeOverride] | None = None,
           *, registry: str = "") -> RenderedLab:
    """Write the lab's containerlab topology and node files under out_dir.

    overrides: peer router name → NodeOverride. registry: prefix for maps-lab's image names
    (e.g. "ghcr.io/me/" for a cluster that pulls from a registry).
    """
    overrides = dict(overrides or {})
    check_overrides(plan, overrides)
    out_dir = Path(out_dir)
    files: dict[str, str | bytes] = {}
    for node in plan.nodes:
        files |= node_files(plan, node)
    files |= image_files(plan, overrides)
    startup: dict[str, str] = {}
    for name, override in sorted(overrides.items()):
        if override.startup_config is not None:
            source = Path(override.startup_config)
            startup[name] = f"nodes/{name}/startup/{source.name}"
            files[startup[name]] = source.read_bytes()
    topology_name = f"{plan.lab}.clab.yml"
    files[topology_name] = topology_yaml(plan, overrides, startup, registry)

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
    return RenderedLab(plan.lab, out_dir, out_dir / topology_name, tuple(sorted(files)))
