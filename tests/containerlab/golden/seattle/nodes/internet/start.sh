#!/bin/sh
# Rendered by maps-lab from the plan of lab 'seattle': re-render instead of editing.
# internet (internet, AS65551): run by containerlab `exec` after the node's links are attached.
set -eu

# Routed link to sea-ms1
ip address add 198.18.1.0/31 dev edge0
ip address add 2001:db8:fffe::/127 dev edge0 nodad
ip link set edge0 up

# Routed link to sea-ms2
ip address add 198.18.1.2/31 dev edge1
ip address add 2001:db8:fffe::2/127 dev edge1 nodad
ip link set edge1 up

# BIRD 2
install -d /run/bird
bird -c /etc/bird/bird.conf -s /run/bird/bird.ctl -P /run/bird/bird.pid
