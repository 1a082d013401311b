"""The edge agent fed with what ExaBGP 5 really wrote on its API pipe."""
from __future__ import annotations

import io
import json

from emulator.edge.agent import AgentConfig, EdgeAgent, as_path
from tests.conftest import FIXTURES


def agent(tmp_path, max_prefix=500, registered=(64500, 64501, 65537)):
    config = AgentConfig("sea-ms1", "sea-1-a", str(tmp_path / "routes.json"),
                         str(tmp_path / "events.jsonl"), list(registered), [], max_prefix)
    return EdgeAgent(config, io.StringIO())


def feed(a, lines):
    for line in lines:
        a.handle(json.loads(line))


def test_records_sessions_and_routes_with_verdicts(tmp_path):
    a = agent(tmp_path, registered=(64500, 64501))
    feed(a, (FIXTURES / "exabgp5-receive.jsonl").read_text().splitlines())
    routes = json.loads((tmp_path / "routes.json").read_text())["peers"]
    assert sorted(routes) == ["198.18.0.0", "2001:db8:ffff::"]
    assert sorted(routes["198.18.0.0"]) == ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24"]
    v6 = routes["2001:db8:ffff::"]["2001:db8:200::/48"]
    assert v6["next_hop"] == "2001:db8:ffff::"          # the global next hop, not the link-local
    assert v6["as_path"] == [64500, 64501]
    assert routes["198.18.0.0"]["203.0.113.0/24"]["rule"] == "MS-REGISTERED"
    events = [json.loads(l) for l in (tmp_path / "events.jsonl").read_text().splitlines()]
    ups = [e for e in events if e["kind"] == "bgp-state" and e["state"] == "up"]
    assert {e["peer"] for e in ups} == {"198.18.0.0", "2001:db8:ffff::"}
    assert all(e["lag"] == "sea-1-a" for e in events)


def _update(peer, prefixes, path=(64500,)):
    return {"type": "update", "neighbor": {"address": {"peer": peer}, "message": {"update": {
        "attribute": {"origin": "igp",
                      "as-path": {"0": {"element": "as-sequence", "value": list(path)}}},
        "announce": {"ipv4 unicast": {peer: [{"nlri": p} for p in prefixes]}}}}}}


def test_withdraw_and_session_down_clear_routes(tmp_path):
    a = agent(tmp_path)
    a.handle(_update("198.18.0.0", ["192.0.2.0/24", "198.51.100.0/24"]))
    a.handle({"type": "update", "neighbor": {"address": {"peer": "198.18.0.0"}, "message": {
        "update": {"withdraw": {"ipv4 unicast": [{"nlri": "192.0.2.0/24"}]}}}}})
    assert list(a.rib["198.18.0.0"]) == ["198.51.100.0/24"]
    a.handle({"type": "state", "neighbor": {"address": {"peer": "198.18.0.0"}, "state": "down"}})
    assert "198.18.0.0" not in a.rib


def test_max_prefix_tears_the_session_down_once(tmp_path):
    a = agent(tmp_path, max_prefix=3)
    a.handle(_update("198.18.0.0", [f"192.0.2.{i * 64}/26" for i in range(3)]))
    assert a.commands.getvalue() == ""
    a.handle(_update("198.18.0.0", ["198.51.100.0/24"]))
    a.handle(_update("198.18.0.0", ["203.0.113.0/24"]))
    # RFC 4486 3: Cease, subcode 1 (Maximum Number of Prefixes Reached).
    assert a.commands.getvalue() == "neighbor 198.18.0.0 teardown 1\n"


def test_as_path_shapes():
    assert as_path({"as-path": {"0": {"element": "as-sequence", "value": [1, 2]},
                                "1": {"element": "as-set", "value": [3, 4]}}}) == [1, 2, 3]
    assert as_path({"as-path": [5, 6]}) == [5, 6]
    assert as_path({}) == []


def test_a_changed_peering_file_rejudges_held_routes(tmp_path):
    peering = tmp_path / "peering.json"
    config = AgentConfig("sea-ms1", "sea-1-a", str(tmp_path / "routes.json"),
                         str(tmp_path / "events.jsonl"), [64500], [], 500, str(peering))
    a = EdgeAgent(config, io.StringIO())
    a.handle(_update("198.18.0.0", ["198.51.100.0/24"], path=(64500, 64501)))
    a.handle(_update("198.18.0.0", ["198.51.100.128/25"], path=(64500, 64501)))
    assert a.rib["198.18.0.0"]["198.51.100.0/24"]["outcome"] == "not-optimized"
    assert a.rib["198.18.0.0"]["198.51.100.128/25"]["outcome"] == "rejected"
    assert a.reload_policy() is False
    peering.write_text(json.dumps({"registered_asns": [64500, 64501],
                                   "activated_prefixes": ["198.51.100.128/25"]}))
    assert a.reload_policy() is True
    assert a.rib["198.18.0.0"]["198.51.100.0/24"]["outcome"] == "optimized"
    assert a.rib["198.18.0.0"]["198.51.100.128/25"]["outcome"] == "optimized"
    saved = json.loads((tmp_path / "routes.json").read_text())["peers"]["198.18.0.0"]
    assert saved["198.51.100.128/25"]["rule"] == "MS-OPTIMIZED"
