# Rendered by maps-lab from the plan of lab 'seattle': re-render instead of editing.
# sea-ms1: ExaBGP (AS8075) towards the internet node, started by the node agent.
export PYTHONPATH=/opt/maps-lab/src
exec /opt/maps-lab/venv/bin/python -m emulator.runtime.containerlab.node_agent edge /maps-lab/internet/speaker.json
