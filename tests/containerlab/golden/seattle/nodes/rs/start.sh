#!/bin/sh
# Rendered by maps-lab from the plan of lab 'seattle': re-render instead of editing.
# rs (route-server, AS64511): run by containerlab `exec` after the node's links are attached.
set -eu

# Exchange LAN port (ixlan port0)
ip address add 100.127.0.1/24 dev ix0
ip address add fd00:100:127::1/64 dev ix0 nodad
ip link set ix0 up

# BIRD 2
install -d /run/bird
bird -c /etc/bird/bird.conf -s /run/bird/bird.ctl -P /run/bird/bird.pid
