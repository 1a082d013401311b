"""Where things are inside a maps-lab container, and what containers are called.

Every rendered file names these paths only (never one of the rendering machine), so one plan
renders the same bytes anywhere.
"""
from __future__ import annotations

HEADER = "# Rendered by maps-lab from the plan of lab {lab!r}: re-render instead of editing."

NODE_DIR = "/maps-lab"                 # the node's rendered directory, mounted read-only
STATE_DIR = "/var/lib/maps-lab"        # run state: events.jsonl, per LAG routes.json and logs
EVENTS_FILE = f"{STATE_DIR}/events.jsonl"
EDGE_VENV = "/opt/maps-lab/venv"       # the edge image's Python, with ExaBGP
EDGE_SRC = "/opt/maps-lab/src"         # the edge image's copy of the emulator package
BRIDGE = "br0"                         # the exchange LAN's bridge, named as in the embedded runtime
CONTAINER_PREFIX = "clab"              # containerlab's default: containers are clab-<lab>-<node>
RUNTIME = "containerlab"               # this runtime's name: in the registry and a lab's state


def container(lab: str, node: str) -> str:
    return f"{CONTAINER_PREFIX}-{lab}-{node}"
