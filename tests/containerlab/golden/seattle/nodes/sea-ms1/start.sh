#!/bin/sh
# Rendered by maps-lab from the plan of lab 'seattle': re-render instead of editing.
# sea-ms1 (microsoft-edge, AS8075): run by containerlab `exec` after the node's links are attached.
set -eu
no_bonding() {
  echo "maps-lab: cannot create the 802.3ad bond $1: on the Docker host run 'modprobe bonding'" >&2
  exit 1
}

# LAG sea-1-a to sea-pr1: LACP active, fast rate (IEEE 802.1AX).
# A member is enslaved while down, then brought up.
ip link add lag0 type bond mode 802.3ad miimon 100 lacp_rate fast xmit_hash_policy layer3+4 min_links 1 || no_bonding lag0
ip link set lag0m1 down
ip link set lag0m1 master lag0
ip link set lag0m1 up
ip link set lag0m2 down
ip link set lag0m2 master lag0
ip link set lag0m2 up
ip address add 198.18.0.1/31 dev lag0
ip address add 2001:db8:ffff::1/127 dev lag0 nodad
ip link set lag0 up

# Routed link to internet
ip address add 198.18.1.1/31 dev inet0
ip address add 2001:db8:fffe::1/127 dev inet0 nodad
ip link set inet0 up

# Endpoints on the loopback
ip address add 4.144.0.1/32 dev lo
ip address add 2603:1000::1/128 dev lo nodad

# The edge's automation configures BGP once a LAG is up (docs/design.md, turn-up
# order): one ExaBGP per LAG, each started by its own waiter.
install -d /var/lib/maps-lab/lag0
setsid sh /maps-lab/lag0/configure-bgp.sh </dev/null >>/var/lib/maps-lab/lag0/automation.log 2>&1 &

# Sessions to the internet: Microsoft's prefixes only, not gated on a LAG.
install -d /var/lib/maps-lab/internet
setsid sh /maps-lab/internet/run.sh </dev/null >>/var/lib/maps-lab/internet/run.log 2>&1 &
