#!/bin/sh
# Rendered by maps-lab from the plan of lab 'seattle': re-render instead of editing.
# Edge automation of sea-ms1 for LAG sea-1-a (lag0). The page: "After the LAG comes up,
# our automated process configures BGP". The node agent (the embedded runtime's Python) waits
# until LACP collects and distributes on a member of lag0 (IEEE 802.1AX-2014 6.4.2.3, from
# /proc/net/bonding/lag0), records lag-up and bgp-configured, then runs ExaBGP.
export PYTHONPATH=/opt/maps-lab/src
exec /opt/maps-lab/venv/bin/python -m emulator.runtime.containerlab.node_agent edge /maps-lab/lag0/speaker.json
