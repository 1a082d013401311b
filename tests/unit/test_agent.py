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
    # Both ASNs registered, the /25 activated with AS64501's key (peering.json's derived keys).
    peering.write_text(json.dumps({"registered_asns": [64500, 64501],
                                   "activated_prefixes": ["198.51.100.128/25"],
                                   "prefix_keys": {"64500": "k0", "64501": "k1"},
                                   "activation_keys": {"198.51.100.128/25": "k1"}}))
    assert a.reload_policy() is True
    # Registered, not activated: accepted, not optimized (registration alone is not enough).
    assert a.rib["198.18.0.0"]["198.51.100.0/24"]["outcome"] == "not-optimized"
    assert a.rib["198.18.0.0"]["198.51.100.0/24"]["rule"] == "MS-ACTIVATED"
    assert a.rib["198.18.0.0"]["198.51.100.128/25"]["outcome"] == "optimized"
    saved = json.loads((tmp_path / "routes.json").read_text())["peers"]["198.18.0.0"]
    assert saved["198.51.100.128/25"]["rule"] == "MS-OPTIMIZED"
    # Activated with another registration's key: not activated for this origin.
    peering.write_text(json.dumps({"prefix_keys": {"64500": "k0", "64501": "k1"},
                                   "activation_keys": {"198.51.100.128/25": "k0"}}))
    assert a.reload_policy() is True
    assert a.rib["198.18.0.0"]["198.51.100.128/25"]["rule"] == "MS-LONG-PREFIX"


def test_the_edge_rejects_what_the_validator_refuses(tmp_path):
    config = AgentConfig("sea-ms1", "sea-1-a", str(tmp_path / "routes.json"),
                         str(tmp_path / "events.jsonl"), [64500], [], 500,
                         microsoft_prefixes=["13.64.0.0/11"])
    a = EdgeAgent(config, io.StringIO())
    a.handle(_update("198.18.0.0", ["10.20.0.0/16", "13.64.8.0/24", "192.0.2.0/24"]))
    held = a.rib["198.18.0.0"]
    assert (held["10.20.0.0/16"]["outcome"], held["10.20.0.0/16"]["rule"]) == (
        "rejected", "MS-ROUTABLE")
    assert "private-use" in held["10.20.0.0/16"]["reason"]
    assert (held["13.64.8.0/24"]["outcome"], held["13.64.8.0/24"]["rule"]) == (
        "rejected", "MS-MICROSOFT-SPACE")
    assert held["192.0.2.0/24"]["rule"] == "MS-ACTIVATED"


RECORDED = FIXTURES / "exabgp5-rfc7606.jsonl"      # tests/fixtures/record_exabgp5_rfc7606.py


def recorded(tmp_path):
    """The agent fed what ExaBGP 5.0.15 (consolidate) wrote for the replay's cases."""
    a = agent(tmp_path)
    lines = RECORDED.read_text().splitlines()
    # The first session, up to its marker UPDATE (the session goes down after it).
    feed(a, lines[:next(i for i, l in enumerate(lines) if "198.19.128.0/24" in l) + 1])
    events = [json.loads(l) for l in (tmp_path / "events.jsonl").read_text().splitlines()]
    return a, [e for e in events if e["kind"] == "bgp-malformed"]


def test_origin_of_two_octets_is_withdrawn_from_the_wire(tmp_path):
    # ExaBGP's JSON says "origin": "igp"; the body holds 40 01 02 00 00.
    a, malformed = recorded(tmp_path)
    assert "198.19.16.0/24" not in a.rib["127.0.0.2"]
    (event,) = [e for e in malformed if e["prefixes"] == ["198.19.16.0/24"]]
    assert event["handling"] == "treat-as-withdraw" and event["by"] == "agent"
    assert event["reason"].startswith("RFC 7606 7.1: ORIGIN of 2 octets")


def test_ipv4_nlri_without_next_hop_is_withdrawn(tmp_path):
    a, malformed = recorded(tmp_path)
    assert "198.19.17.0/24" not in a.rib["127.0.0.2"]
    (event,) = [e for e in malformed if e["prefixes"] == ["198.19.17.0/24"]]
    assert event["handling"] == "treat-as-withdraw" and "RFC 7606 3.d" in event["reason"]


def test_local_pref_from_an_external_peer_is_discarded_and_the_route_kept(tmp_path):
    a, malformed = recorded(tmp_path)
    route = a.rib["127.0.0.2"]["198.19.18.0/24"]
    assert route["discarded"] == ["LOCAL_PREF"]
    (event,) = [e for e in malformed if e["prefixes"] == ["198.19.18.0/24"]]
    assert (event["handling"], event["attribute"]) == ("attribute-discard", "LOCAL_PREF")
    assert event["reason"].startswith("RFC 7606 7.5")
    # The good announcements around them carry no defect.
    assert "discarded" not in a.rib["127.0.0.2"]["198.19.128.0/24"]
    assert not [e for e in malformed if "198.19.128.0/24" in e["prefixes"]]


def test_the_notification_a_peer_sent_is_recorded(tmp_path):
    a = agent(tmp_path)
    feed(a, RECORDED.read_text().splitlines())
    events = [json.loads(l) for l in (tmp_path / "events.jsonl").read_text().splitlines()]
    (sent,) = [e for e in events if e["kind"] == "bgp-notification" and e["peer"] == "127.0.0.2"]
    assert (sent["notification"]["code"], sent["notification"]["subcode"]) == (6, 2)
