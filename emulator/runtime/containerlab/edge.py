"""A Microsoft edge router's files: per LAG its ExaBGP (AS8075) and edge agent configs and the
edge automation that gates BGP on the LAG; the sessions to the internet node, not gated.

Both are run by the node agent (emulator.runtime.containerlab.node_agent) in the edge image,
the same Python as the embedded runtime's; the scripts only call it.
"""
from __future__ import annotations

import dataclasses
import json

from emulator.nodes import exabgp
from emulator.plan.model import Node, Plan
from emulator.runtime.containerlab.layout import (EDGE_SRC, EDGE_VENV, EVENTS_FILE, HEADER,
                                                  NODE_DIR, STATE_DIR)
from emulator.runtime.containerlab.node_agent import EdgeSpeaker

SPEAKER = "speaker.json"


def _agent_call(directory: str) -> list[str]:
    return [f"export PYTHONPATH={EDGE_SRC}",
            f"exec {EDGE_VENV}/bin/python -m emulator.runtime.containerlab.node_agent edge "
            f"{directory}/{SPEAKER}", ""]


def _internet_addresses(plan: Plan, node: Node) -> list[str]:
    return [s.a_address for s in plan.sessions_of(node.name)
            if s.lag is None and s.a_node == node.name]


def edge_files(plan: Plan, node: Node) -> dict[str, str]:
    """Files under nodes/<edge>/, relative to it."""
    files = {}
    header = HEADER.format(lab=plan.lab)
    if plan.links_of(node.name):
        here, run = f"{NODE_DIR}/internet", f"{STATE_DIR}/internet"
        files["internet/exabgp.conf"] = exabgp.render_internet(plan, node)
        files[f"internet/{SPEAKER}"] = EdgeSpeaker(
            node.name, f"{here}/exabgp.conf", tuple(_internet_addresses(plan, node)),
            f"{run}/exabgp.log", f"{EDGE_VENV}/bin/exabgp", EVENTS_FILE).json()
        files["internet/run.sh"] = "\n".join([
            header, f"# {node.name}: ExaBGP (AS8075) towards the internet node, started by the "
                    f"node agent.", *_agent_call(here)])
    for lag in plan.lags_of(node.name):
        here, run = f"{NODE_DIR}/{lag.ifname}", f"{STATE_DIR}/{lag.ifname}"
        config = exabgp.agent_config(plan, node, lag, run, EVENTS_FILE)
        files[f"{lag.ifname}/agent.json"] = json.dumps(dataclasses.asdict(config), indent=2) + "\n"
        files[f"{lag.ifname}/exabgp.conf"] = exabgp.render(
            plan, node, lag, f"{here}/agent.json", python=f"{EDGE_VENV}/bin/python")
        files[f"{lag.ifname}/{SPEAKER}"] = EdgeSpeaker(
            node.name, f"{here}/exabgp.conf", tuple(exabgp.local_addresses(plan, lag)),
            f"{run}/exabgp.log", f"{EDGE_VENV}/bin/exabgp", EVENTS_FILE, lag.name, lag.ifname,
            f"/proc/net/bonding/{lag.ifname}").json()
        files[f"{lag.ifname}/configure-bgp.sh"] = "\n".join([
            "#!/bin/sh", header,
            f"# Edge automation of {node.name} for LAG {lag.name} ({lag.ifname}). The page: "
            f"\"After the LAG comes up,",
            "# our automated process configures BGP\". The node agent (the embedded runtime's "
            "Python) waits",
            f"# until LACP collects and distributes on a member of {lag.ifname} (IEEE "
            f"802.1AX-2014 6.4.2.3, from",
            f"# /proc/net/bonding/{lag.ifname}), records lag-up and bgp-configured, then runs "
            f"ExaBGP.",
            *_agent_call(here)])
    return files


def edge_start_lines(plan: Plan, node: Node) -> list[str]:
    """start.sh lines of an edge: each LAG's automation and the internet sessions, detached."""
    lines = ["", "# The edge's automation configures BGP once a LAG is up (docs/design.md, turn-up",
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
