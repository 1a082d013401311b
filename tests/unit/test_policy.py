"""The edge's policy: each rule of the page decides with its id and reason."""
from __future__ import annotations

from emulator.edge.policy import EdgePolicy, Outcome, is_private_asn, judge

POLICY = EdgePolicy(frozenset({64500, 64501}), frozenset({"198.51.100.128/25"}))


def test_registered_origin_is_optimized():
    v = judge(POLICY, "198.51.100.0/24", [64500, 64501])
    assert (v.outcome, v.rule) == (Outcome.OPTIMIZED, "MS-OPTIMIZED")


def test_unregistered_origin_is_not_optimized():
    v = judge(POLICY, "203.0.113.0/24", [64500, 65537])
    assert (v.outcome, v.rule) == (Outcome.NOT_OPTIMIZED, "MS-REGISTERED")
    assert "AS65537" in v.reason


def test_private_asn_anywhere_is_rejected():
    v = judge(POLICY, "198.51.100.0/24", [64500, 65000, 64501])
    assert (v.outcome, v.rule) == (Outcome.REJECTED, "MS-PRIVATE-ASN")
    assert "65000" in v.reason


def test_own_asn_in_path_is_discarded():
    assert judge(POLICY, "13.64.0.0/11", [64500, 8075]).outcome is Outcome.DISCARDED


def test_longer_than_24_needs_activation():
    v = judge(POLICY, "198.51.100.0/25", [64500, 64501])
    assert (v.outcome, v.rule) == (Outcome.REJECTED, "MS-LONG-PREFIX")
    assert judge(POLICY, "198.51.100.128/25", [64500, 64501]).outcome is Outcome.OPTIMIZED


def test_longer_than_24_needs_a_path_shorter_than_four():
    v = judge(POLICY, "198.51.100.128/25", [64500, 64501, 64501, 64501])
    assert (v.outcome, v.rule) == (Outcome.REJECTED, "MS-LONG-PREFIX")
    assert judge(POLICY, "198.51.100.128/25", [64500, 64501, 64501]).outcome is Outcome.OPTIMIZED


def test_private_ranges():
    assert [is_private_asn(a) for a in (64511, 64512, 65534, 65535, 4200000000, 4294967295)] == [
        False, True, True, False, True, False]
