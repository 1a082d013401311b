#!/bin/sh
# Rendered by maps-lab from the plan of lab 'seattle': re-render instead of editing.
# fabrikam (member, AS64501): run by containerlab `exec` after the node's links are attached.
set -eu

# Exchange LAN port (ixlan port3)
ip address add 100.127.0.4/24 dev ix0
ip address add fd00:100:127::4/64 dev ix0 nodad
ip link set ix0 up

# Endpoints on the loopback
ip address add 198.51.100.1/32 dev lo
ip address add 2001:db8:200::1/128 dev lo nodad

# BIRD 2
install -d /run/bird
bird -c /etc/bird/bird.conf -s /run/bird/bird.ctl -P /run/bird/bird.pid
