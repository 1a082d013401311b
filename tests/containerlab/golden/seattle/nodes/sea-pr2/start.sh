#!/bin/sh
# Rendered by maps-lab from the plan of lab 'seattle': re-render instead of editing.
# sea-pr2 (peer-router, AS64500): run by containerlab `exec` after the node's links are attached.
set -eu
no_bonding() {
  echo "maps-lab: cannot create the 802.3ad bond $1: on the Docker host run 'modprobe bonding'" >&2
  exit 1
}
# Poll for a daemon's socket for a budget of seconds (emulator.wait daemon_socket).
wait_socket() {
  tries=$(( $2 * 10 ))
  while [ ! -S "$1" ]; do
    tries=$(( tries - 1 ))
    [ "$tries" -gt 0 ] || { echo "maps-lab: $1 did not appear within $2 s" >&2; exit 1; }
    sleep 0.1
  done
}

# LAG sea-1-b to sea-ms2: LACP active, fast rate (IEEE 802.1AX).
# A member is enslaved while down, then brought up.
ip link add lag1 type bond mode 802.3ad miimon 100 lacp_rate fast xmit_hash_policy layer3+4 min_links 1 || no_bonding lag1
ip link set lag1m1 down
ip link set lag1m1 master lag1
ip link set lag1m1 up
ip link set lag1m2 down
ip link set lag1m2 master lag1
ip link set lag1m2 up
ip address add 198.18.0.2/31 dev lag1
ip address add 2001:db8:ffff::2/127 dev lag1 nodad
ip link set lag1 up

# Exchange LAN port (ixlan port2)
ip address add 100.127.0.3/24 dev ix0
ip address add fd00:100:127::3/64 dev ix0 nodad
ip link set ix0 up

# Endpoints on the loopback
ip address add 192.0.2.1/32 dev lo
ip address add 2001:db8:100::1/128 dev lo nodad

# FRR: zebra, then bgpd once zebra's zserv socket exists (bgpd retries only after
# 10 s). An FRR image that starts FRR itself from /etc/frr/daemons is left alone.
if [ ! -S /var/run/frr/zserv.api ]; then
  install -d -o frr -g frr /var/run/frr /var/log/frr
  /usr/lib/frr/zebra -d -A 127.0.0.1 -P 0 -z /var/run/frr/zserv.api -f /etc/frr/zebra.conf -i /var/run/frr/zebra.pid --log file:/var/run/frr/zebra.log
  wait_socket /var/run/frr/zserv.api 10
  /usr/lib/frr/bgpd -d -A 127.0.0.1 -P 0 -z /var/run/frr/zserv.api -f /etc/frr/bgpd.conf -i /var/run/frr/bgpd.pid --log file:/var/run/frr/bgpd.log
fi
