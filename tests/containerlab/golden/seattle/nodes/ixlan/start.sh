#!/bin/sh
# Rendered by maps-lab from the plan of lab 'seattle': re-render instead of editing.
# ixlan (exchange-lan): run by containerlab `exec` after the node's links are attached.
set -eu

# The exchange LAN: one bridge, a port per node (never inside a LAG path)
ip link add br0 type bridge
ip link set port0 master br0 up
ip link set port1 master br0 up
ip link set port2 master br0 up
ip link set port3 master br0 up
ip link set port4 master br0 up
ip link set br0 up
