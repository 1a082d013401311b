"""peer-devices on recorded nftables rulesets, and what the topology's forbidden flags put in a
peer router's namespace (no root)."""
from __future__ import annotations

import subprocess
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from emulator.judge import checks
from emulator.nodes import firewall
from emulator.observe.observers import parse_ruleset
from emulator.plan.model import Plan
from emulator.plan.resolve import resolve
from emulator.topology.loader import load

ROOT = Path(__file__).resolve().parents[2]
NFT = ROOT / "tests" / "fixtures" / "nodes" / "nftables"
PLAN = resolve(load(ROOT / "topologies" / "seattle.yaml"))


def test_limits_meters_and_quotas_are_rate_limits_and_ct_count_tracks_connections():
    conntrack, limits = parse_ruleset((NFT / "limits-meters-quotas.txt").read_text())
    assert conntrack == ("ct count over 10 drop (table inet t, chain input)",)
    assert [rule.split(" (table")[0] for rule in limits] == [
        "tcp dport 179 limit rate 10/second accept",
        "ip saddr 10.0.0.0/8 quota over 100 mbytes drop",
        'limit name "lim1" accept',
        'quota name "q1" drop',
        "update @s1 { ip saddr limit rate 10/second } accept",
        "meter m1 size 65535 { ip saddr limit rate 5/second } accept"]
    # Object definitions and the set limit nothing on their own; a plain rule is no finding.
    assert not any("kbytes" in r or "25 mbytes" in r or r.startswith("tcp dport 179 accept")
                   for r in conntrack + limits)


def test_an_empty_ruleset_has_no_finding():
    assert parse_ruleset("") == ((), ())


@dataclass
class NftHost:
    """A peer router namespace whose `nft list ruleset` prints a recording; tc prints nothing."""

    rulesets: dict[str, str]

    def run(self, node, argv, check=True, timeout=30.0):
        out = self.rulesets.get(node, "") if list(argv[:2]) == ["nft", "list"] else ""
        return subprocess.CompletedProcess(list(argv), 0, out, "")


@dataclass
class DeviceLab:
    plan: Plan
    runtime: NftHost


def test_peer_devices_fails_on_the_flags_ruleset_and_passes_on_an_empty_one():
    flagged = DeviceLab(PLAN, NftHost({"sea-pr1": (NFT / "flags-sea-pr1.txt").read_text()}))
    verdict = checks.peer_devices(flagged)
    assert not verdict.passed
    assert ("sea-pr1: stateful firewall rule: ct state established,related accept "
            "(table inet mapslab_peer, chain input)") in verdict.evidence
    assert ('sea-pr1: rate limit: nftables: oifname "lag0" limit rate over 2500 mbytes/second '
            'drop (table inet mapslab_peer, chain output)') in verdict.evidence
    assert "sea-pr2: no conntrack rule, no nftables limit, meter or quota, no shaper or policer" \
        in verdict.evidence
    clean = checks.peer_devices(DeviceLab(PLAN, NftHost({})))
    assert clean.passed, clean


def test_the_flags_become_rules_and_a_router_without_them_gets_none():
    assert firewall.ruleset(PLAN, PLAN.node("sea-pr1")) == ""
    stateful = firewall.ruleset(PLAN, replace(PLAN.node("sea-pr1"), stateful_firewall=True))
    assert "ct state established,related accept" in stateful and "limit" not in stateful
    limited = firewall.ruleset(PLAN, replace(PLAN.node("sea-pr2"), rate_limit=True))
    # sea-pr2 ends link B (lag1): two 10 Gbit/s members, 2500 MB/s.
    assert 'oifname "lag1" limit rate over 2500 mbytes/second drop' in limited
    assert "ct state" not in limited


@pytest.mark.parametrize("flag", ["stateful-firewall", "rate-limit"])
def test_the_topologys_flags_reach_the_plan(tmp_path, flag):
    text = (ROOT / "topologies" / "seattle.yaml").read_text()
    text = text.replace("    max-prefix: 500\n", f"    max-prefix: 500\n    {flag}: true\n", 1)
    (tmp_path / "t.yaml").write_text(text)
    node = resolve(load(tmp_path / "t.yaml")).node("sea-pr1")
    assert (node.stateful_firewall, node.rate_limit) == (flag == "stateful-firewall",
                                                         flag == "rate-limit")


def test_apply_loads_the_ruleset_in_the_routers_namespace():
    from emulator.runtime.fake import FakeRuntime
    runtime = FakeRuntime()
    firewall.apply(runtime, PLAN, PLAN.node("sea-pr2"))
    assert runtime.runs() == []
    firewall.apply(runtime, PLAN, replace(PLAN.node("sea-pr2"), rate_limit=True))
    assert runtime.calls[0][1] == "sea-pr2" and runtime.runs()[0][0] == "nft"
