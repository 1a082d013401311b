"""The edge's policy: each rule of the page decides with its id and reason."""
from __future__ import annotations

from emulator.edge.policy import EdgePolicy, Outcome, is_private_asn, judge

KEY_64500, KEY_64501 = "key-of-as64500", "key-of-as64501"
# AS64500 and AS64501 registered; the /25 and 198.51.100.0/24 activated with AS64501's key.
POLICY = EdgePolicy.of({64500: KEY_64500, 64501: KEY_64501},
                       {"198.51.100.128/25": KEY_64501, "198.51.100.0/24": KEY_64501},
                       ["13.64.0.0/11", "2603:1000::/24"])


def test_an_activated_prefix_of_a_registered_origin_is_optimized():
    v = judge(POLICY, "198.51.100.0/24", [64500, 64501])
    assert (v.outcome, v.rule) == (Outcome.OPTIMIZED, "MS-OPTIMIZED")


def test_registered_but_not_activated_is_accepted_not_optimized():
    # The page: register the ASN, then customers activate prefixes with its key; only then
    # optimized. Registration alone is not enough.
    v = judge(POLICY, "192.0.2.0/24", [64500])
    assert (v.outcome, v.rule) == (Outcome.NOT_OPTIMIZED, "MS-ACTIVATED")
    assert "AS64500 is registered" in v.reason and "not activated" in v.reason


def test_a_prefix_activated_with_another_origins_key_is_not_optimized():
    # "This prefix key must be used with ALL peering service prefixes": the key binds the
    # prefix to its origin's registration; received from AS64500 it is not that origin's.
    v = judge(POLICY, "198.51.100.0/24", [64500])
    assert (v.outcome, v.rule) == (Outcome.NOT_OPTIMIZED, "MS-ACTIVATED")
    assert "key other than the one issued to AS64500" in v.reason


def test_a_key_reissued_to_the_origin_leaves_the_old_activation_behind():
    reissued = EdgePolicy.of({64501: "new-key"}, {"198.51.100.0/24": KEY_64501})
    assert judge(reissued, "198.51.100.0/24", [64500, 64501]).rule == "MS-ACTIVATED"


def test_unregistered_origin_is_not_optimized():
    v = judge(POLICY, "203.0.113.0/24", [64500, 65537])
    assert (v.outcome, v.rule) == (Outcome.NOT_OPTIMIZED, "MS-REGISTERED")
    assert "AS65537" in v.reason


def test_declared_registrations_match_declared_activations():
    declared = EdgePolicy.declared([64500], ["192.0.2.0/24"])
    assert judge(declared, "192.0.2.0/24", [64500]).outcome is Outcome.OPTIMIZED
    assert judge(declared, "203.0.113.0/24", [64500]).rule == "MS-ACTIVATED"


def test_private_asn_anywhere_is_rejected():
    v = judge(POLICY, "198.51.100.0/24", [64500, 65000, 64501])
    assert (v.outcome, v.rule) == (Outcome.REJECTED, "MS-PRIVATE-ASN")
    assert "65000" in v.reason


def test_own_asn_in_path_is_discarded():
    assert judge(POLICY, "13.64.0.0/11", [64500, 8075]).outcome is Outcome.DISCARDED


def test_not_publicly_routable_is_rejected_with_the_validators_words():
    for prefix, words in (("10.1.0.0/16", "private-use (RFC 1918 3)"),
                          ("100.100.2.0/24", "shared address space (CGNAT)"),
                          ("198.19.16.0/24", "benchmarking"),
                          ("0.0.0.0/0", "covers"),
                          ("fd00:1::/48", "unique local")):
        v = judge(POLICY, prefix, [64500])
        assert (v.outcome, v.rule) == (Outcome.REJECTED, "MS-ROUTABLE"), prefix
        assert words in v.reason, (prefix, v.reason)


def test_documentation_ranges_stand_in_for_public_space():
    assert judge(POLICY, "2001:db8:100::/48", [64500]).rule == "MS-ACTIVATED"


def test_inside_microsofts_own_space_is_rejected():
    for prefix in ("13.64.0.0/11", "13.64.1.0/24", "2603:1000:4::/48"):
        v = judge(POLICY, prefix, [64500])
        assert (v.outcome, v.rule) == (Outcome.REJECTED, "MS-MICROSOFT-SPACE"), prefix
    assert judge(POLICY, "13.96.0.0/24", [64500]).rule == "MS-ACTIVATED"


def test_longer_than_24_needs_activation():
    v = judge(POLICY, "198.51.100.0/25", [64500, 64501])
    assert (v.outcome, v.rule) == (Outcome.REJECTED, "MS-LONG-PREFIX")
    assert judge(POLICY, "198.51.100.128/25", [64500, 64501]).outcome is Outcome.OPTIMIZED
    # Activated, but with another origin's key: not activated for this route.
    assert judge(POLICY, "198.51.100.128/25", [64500]).rule == "MS-LONG-PREFIX"


def test_longer_than_24_needs_a_path_shorter_than_four():
    v = judge(POLICY, "198.51.100.128/25", [64500, 64501, 64501, 64501])
    assert (v.outcome, v.rule) == (Outcome.REJECTED, "MS-LONG-PREFIX")
    assert judge(POLICY, "198.51.100.128/25", [64500, 64501, 64501]).outcome is Outcome.OPTIMIZED


def test_private_ranges():
    assert [is_private_asn(a) for a in (64511, 64512, 65534, 65535, 4200000000, 4294967295)] == [
        False, True, True, False, True, False]
