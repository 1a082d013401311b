"""The checks of the peer's own routers, on recorded observations (no root)."""
from __future__ import annotations

from pathlib import Path

from emulator.judge.router_checks import edge_session_states, leak_reason
from emulator.observe.timeline import Event, Timeline
from emulator.plan.resolve import resolve
from emulator.topology.loader import load

ROOT = Path(__file__).resolve().parents[2]
PLAN = resolve(load(ROOT / "topologies" / "seattle.yaml"))


def test_only_the_exchange_sides_public_prefixes_may_reach_microsoft():
    assert leak_reason(PLAN, "192.0.2.0/24", (64500,)) == ""
    assert leak_reason(PLAN, "198.51.100.0/24", (64500, 64501)) == ""
    assert "Microsoft's own prefix" in leak_reason(PLAN, PLAN.microsoft_prefixes[0], (64500, 8075))
    assert "through AS8075" in leak_reason(PLAN, "192.0.2.0/24", (64500, 8075))
    assert "not publicly routable" in leak_reason(PLAN, "10.0.0.0/8", (64500,))
    assert "RFC 6598" in leak_reason(PLAN, "100.127.0.0/24", (64500,))
    assert leak_reason(PLAN, "8.8.8.0/24", (64500,)) == "not a prefix of the exchange side"


def test_edge_session_states_follow_the_agents_last_word():
    events = (Event(1.0, "bgp-state", {"lag": "sea-1-a", "peer": "198.18.0.0", "state": "up"}),
              Event(2.0, "bgp-state", {"lag": "sea-1-a", "peer": "198.18.0.0", "state": "down"}),
              Event(3.0, "bgp-state", {"lag": "sea-1-b", "peer": "198.18.0.2", "state": "up"}))
    states = edge_session_states(PLAN, Timeline(events))
    assert states["sea-1-a-v4"] == "down"
    assert states["sea-1-b-v4"] == "up"
    assert states["sea-1-a-v6"] == "never seen"
