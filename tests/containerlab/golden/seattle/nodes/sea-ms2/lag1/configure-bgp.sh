#!/bin/sh
# Rendered by maps-lab from the plan of lab 'seattle': re-render instead of editing.
# Edge automation of sea-ms2 for LAG sea-1-b (lag1). The page: "After the LAG comes up,
# our automated process configures BGP". The node agent (the embedded runtime's Python) waits
# until LACP collects and distributes on a member of lag1 (IEEE 802.1AX-2014 6.4.2.3, from
# /proc/net/bonding/lag1), records lag-up and bgp-configured, then runs ExaBGP.
export PYTHONPATH=/opt/maps-lab/src
exec /opt/maps-lab/venv/bin/python -m emulator.runtime.containerlab.node_agent edge /maps-lab/lag1/speaker.json
