"""Where a node's configuration comes from: the user's own file, copied byte for byte into the
node's directory (never rewritten), or the node kind's lab-made rendering."""
from __future__ import annotations

import shutil
from pathlib import Path

from emulator.nodes import registry
from emulator.plan.model import Node, Plan


def install(plan: Plan, node: Node, d: Path) -> Path:
    """Put the node's configuration at d/<the kind's config name>; return that path."""
    kind = registry.kind_of(node)
    target = d / kind.config_name
    if node.config:
        shutil.copyfile(node.config, target)
    else:
        target.write_text(kind.render(plan, node, d))
    return target


def lab_made(node: Node) -> bool:
    """Whether the lab wrote this node's configuration (and so may change it in place)."""
    return node.config is None
