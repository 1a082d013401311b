"""The containerlab runtime: the lab plan as a containerlab topology, node files and images, and
a deployed lab driven through `docker exec`.

render() writes, all paths relative to its output directory (containerlab resolves binds against
the topology file), so that one plan renders byte-identical files on any machine:

  <lab>.clab.yml             the topology: linux nodes; each LAG member a point-to-point link
  nodes/<node>/start.sh      run by containerlab `exec` once the links exist: LAG bonds, LAN
                             port, loopback endpoints, then the node's programs
  nodes/<node>/<software>/   the router program's configuration, from its node kind or the
                             user's own file byte for byte (FRR → /etc/frr, BIRD → /etc/bird)
  nodes/<edge>/<lagN>/       exabgp.conf, agent.json, speaker.json, configure-bgp.sh
  images/<program>/          Dockerfiles of the Debian images of other router programs

Inside a container: /maps-lab is the node's directory (read-only), /var/lib/maps-lab its run state
(events.jsonl, per LAG routes.json and logs). The lab's Python runs there as the node agent
(node_agent). The exchange LAN is a linux node holding a bridge, not containerlab's `bridge`
kind: that needs a bridge made beforehand on the host, and its port names would live in the
host's namespace, shared by every lab.

Modules: layout (paths in containers), images (the catalogue), overrides (the user's own image
or NOS), programs (router programs through the node registry), edge (the Microsoft edge's files),
start (start.sh), rendering (the .clab.yml and render()), emulator.plan.planfile (the plan as JSON),
node_agent (in the containers), host (DockerHost, ContainerlabRuntime), bonds (the LAG driver:
/proc/net/bonding through docker exec), attached (a deployed lab's record on this host, attached
again for status and checks), deploy (Docker and containerlab: deploy, wait, destroy). Peer
routers may be replaced by the user's own image or NOS (docs/containerlab.md).

This package's own import stays light: the node agent runs as a module of it in images that
carry only the standard library; the names below are loaded when first used.
"""
from __future__ import annotations

import importlib
from typing import Any

from emulator.runtime import registry as _registry
from emulator.runtime.containerlab.layout import RUNTIME as _RUNTIME

_API = {
    "render": "rendering", "RenderedLab": "rendering", "topology_yaml": "rendering",
    "NodeOverride": "overrides", "parse_overrides": "overrides",
    "IMAGES": "images", "Image": "images",
    "bond_options": "start",
    "container": "layout",
    "DockerHost": "host", "ContainerlabRuntime": "host",
    "blocker": "deploy", "missing_images": "deploy", "deploy_argv": "deploy",
    "destroy_argv": "deploy", "up": "deploy", "down": "deploy", "router_views": "deploy",
}


def __getattr__(name: str) -> Any:
    module = _API.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


def _open(lab: str) -> Any:
    from emulator.runtime.containerlab.host import ContainerlabRuntime
    return ContainerlabRuntime(lab)


def _deployment() -> Any:
    from emulator.runtime.containerlab.deploy import DEPLOYMENT
    return DEPLOYMENT


_registry.register(_registry.RuntimeKind(
    _RUNTIME, "Docker, through containerlab (render, deploy, destroy)", _open, _deployment))
