# Rendered by maps-lab from the plan of lab 'seattle': re-render instead of editing.
# sea-ms2: ExaBGP (AS8075) towards the internet node.
export exabgp_daemon_user=root exabgp_daemon_drop=false exabgp_api_cli=false
export exabgp_tcp_bind="198.18.1.3 2001:db8:fffe::3"
export exabgp_log_destination=/var/lib/maps-lab/internet/exabgp.log
exec /opt/maps-lab/venv/bin/exabgp server /maps-lab/internet/exabgp.conf
