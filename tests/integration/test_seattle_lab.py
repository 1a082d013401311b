"""The default lab, end to end, with real namespaces, Open vSwitch, FRR, BIRD and ExaBGP."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from emulator.judge import checks
from emulator.observe import observers as observe

pytestmark = pytest.mark.integration


def test_two_lags_negotiated_with_two_members_each(seattle_lab):
    found = observe.lags(seattle_lab.plan, seattle_lab.driver)
    assert len(found) == 2
    for lag in found:
        for side in (lag.peer_side, lag.edge_side):
            assert side.up and side.members_up == 2, (lag.lag, side)


def test_four_interconnect_sessions_established(seattle_lab):
    sessions = [s for s in observe.all_sessions(seattle_lab.plan, seattle_lab.node_dir)
                if s.interconnect]
    assert sorted((s.session, s.state) for s in sessions) == [
        ("sea-1-a-v4", "Established"), ("sea-1-a-v6", "Established"),
        ("sea-1-b-v4", "Established"), ("sea-1-b-v6", "Established")]


def test_every_exchange_session_established(seattle_lab):
    sessions = observe.all_sessions(seattle_lab.plan, seattle_lab.node_dir)
    assert [s for s in sessions if not s.established] == []


def test_microsoft_prefixes_at_each_peer_router(seattle_lab):
    plan = seattle_lab.plan
    for router in ("sea-pr1", "sea-pr2"):
        counts = observe.microsoft_prefix_count(plan, router, seattle_lab.node_dir(router))
        assert counts["ipv4"] == 280, (router, counts)
        assert counts["ipv6"] == len(plan.microsoft_prefixes) - 280, (router, counts)


def test_both_members_prefixes_at_both_edge_agents(seattle_lab):
    members = {"198.51.100.0/24", "2001:db8:200::/48", "203.0.113.0/24", "2001:db8:300::/48"}
    edges = observe.edge_routes(seattle_lab.plan, seattle_lab.node_dir)
    assert sorted(e.node for e in edges) == ["sea-ms1", "sea-ms2"]
    for edge in edges:
        assert members <= edge.prefixes(), (edge.node, sorted(edge.prefixes()))
        for routes in edge.peers.values():
            assert all(r["outcome"] == "optimized" for r in routes.values()), routes


def test_each_lag_was_up_before_its_bgp_session_established(seattle_lab):
    events = seattle_lab.dir.events()
    for lag in seattle_lab.plan.lags:
        lag_up = [e["time"] for e in events if e["kind"] == "lag-up" and e["lag"] == lag.name]
        established = [e["time"] for e in events if e["kind"] == "bgp-state"
                       and e["lag"] == lag.name and e["state"] == "up"]
        assert len(lag_up) == 1, events
        assert len(established) == 2, events      # IPv4 and IPv6
        assert lag_up[0] < min(established), (lag.name, lag_up, established)
    verdict = checks.lag_before_bgp(seattle_lab)
    assert verdict.passed, verdict


def test_microsoft_never_readvertises_the_peer_prefixes(seattle_lab):
    verdict = checks.no_readvertisement(seattle_lab)
    assert verdict.passed, verdict
    heard = observe.bird_prefixes(seattle_lab.node_dir("internet"))
    assert set(seattle_lab.plan.microsoft_prefixes) <= heard
    assert not heard & {"192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8:200::/48"}


def test_all_checks_pass(seattle_lab):
    verdicts = checks.run_all(seattle_lab)
    assert [v for v in verdicts if not v.passed] == []


def test_status_as_json_from_the_command_line(seattle_lab):
    result = subprocess.run([str(Path(sys.executable).with_name("mapslab")), "status", "itsea",
                             "--format", "json"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    assert [lag["peer_side"]["up"] for lag in status["lags"]] == [True, True]
    assert sum(1 for s in status["sessions"] if s["interconnect"]
               and s["state"] == "Established") == 4


def test_a_stateful_firewall_or_a_shaper_on_a_peer_router_is_caught(seattle_lab):
    runtime = seattle_lab.runtime
    assert checks.peer_devices(seattle_lab).passed
    runtime.run("sea-pr1", ["nft", "add table inet guard; "
                            "add chain inet guard in { type filter hook input priority 0 ; }; "
                            "add rule inet guard in ct state established,related accept"])
    runtime.run("sea-pr2", ["tc", "qdisc", "add", "dev", "lag1m1", "root", "tbf", "rate",
                            "10gbit", "burst", "1mb", "latency", "50ms"])
    try:
        verdict = checks.peer_devices(seattle_lab)
        assert not verdict.passed
        assert any(e.startswith("sea-pr1: stateful firewall rule: ct state") for e in verdict.evidence)
        assert any(e.startswith("sea-pr2: rate limit: lag1m1: qdisc tbf") for e in verdict.evidence)
    finally:
        runtime.run("sea-pr1", ["nft", "delete", "table", "inet", "guard"])
        runtime.run("sea-pr2", ["tc", "qdisc", "del", "dev", "lag1m1", "root"])
    assert checks.peer_devices(seattle_lab).passed


def test_capture_of_lacp_on_a_member(seattle_lab, tmp_path):
    from scapy.all import rdpcap
    from scapy.contrib.lacp import LACP

    from emulator.observe.capture import capture
    found = capture("itsea", "sea-pr1", "lag0m1", tmp_path / "lacp.pcap", count=2, seconds=5,
                    bpf="ether proto 0x8809")
    assert found.packets == 2
    packets = rdpcap(str(tmp_path / "lacp.pcap"))
    # IEEE 802.1AX-2014 6.4.2.3: with fast timers a LACPDU every second, each side's state.
    assert all(p.haslayer(LACP) for p in packets)
    assert all(p[LACP].actor_state & 0x30 == 0x30 for p in packets)   # collecting, distributing
