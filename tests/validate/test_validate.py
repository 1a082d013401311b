"""validate, validate_change and the special-purpose tables, beyond the golden cases."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from emulator.topology import addresses as bogons
from emulator.topology import rules
from emulator.topology.addresses import Use
from emulator.topology.loader import load, load_with_lines, parse, parse_with_lines
from emulator.topology.validate import (announced_path, announcements, render_json, render_text, validate,
                               validate_change)
from tests.conftest import ROOT

SEATTLE_PATH = ROOT / "topologies" / "seattle.yaml"
SEATTLE = SEATTLE_PATH.read_text(encoding="utf-8")
# Warnings an example may carry: its stand-ins (stated in its header) and a single location.
EXAMPLE_WARNINGS = {rules.ASN_DOCUMENTATION.id, rules.ORIGIN_ASN_DOCUMENTATION.id,
                    rules.PREFIX_DOCUMENTATION.id, rules.GEO_REDUNDANCY.id}


def rule_ids(text: str) -> list[str]:
    topo, lines = parse_with_lines(text, "t.yaml")
    return [f.rule for f in validate(topo, lines).findings]


@pytest.mark.parametrize("path", sorted((ROOT / "topologies").glob("*.yaml")), ids=lambda p: p.stem)
def test_every_example_validates_clean(path: Path):
    report = validate(*load_with_lines(path))
    assert report.ok, render_text(report, path.name)
    assert {f.rule for f in report.warnings} <= EXAMPLE_WARNINGS


def test_seattle_warns_of_its_stand_ins_and_its_single_location():
    report = validate(*load_with_lines(SEATTLE_PATH))
    assert [f.rule for f in report.warnings].count(rules.PREFIX_DOCUMENTATION.id) == 6
    assert [f.rule for f in report.warnings].count(rules.GEO_REDUNDANCY.id) == 1
    assert report.errors == ()


def test_load_with_lines_returns_what_load_returns():
    topo, lines = load_with_lines(SEATTLE_PATH)
    assert topo == load(SEATTLE_PATH) == parse(SEATTLE, "x")
    assert lines[("connections", 0, "links", 1, "peer-router")] == \
        SEATTLE[:SEATTLE.index("peer-router: sea-pr2")].count("\n") + 1


def test_without_lines_findings_have_paths_but_no_lines():
    topo = parse(SEATTLE.replace("lacp: active", "lacp: off", 1), "x")
    report = validate(topo)
    lacp = [f for f in report.findings if f.rule == rules.LACP.id]
    assert [(f.path, f.line) for f in lacp] == [("routers[0].lacp", None)]
    assert "x: error: routers[0].lacp:" in render_text(report, "x")


def test_lacp_off_unquoted_is_lacp_off_not_a_format_error():
    assert parse(SEATTLE.replace("lacp: active", "lacp: off", 1), "x").routers[0].lacp == "off"


def test_session_addresses_and_the_exchange_lan_are_not_advertised():
    text = SEATTLE.replace("ipv4: 198.18.0.0/31", "ipv4: 10.0.0.0/31").replace(
        "\nexchange:\n", "\nexchange:\n  lan-ipv4: 192.168.0.0/24\n")
    assert parse(text, "x").exchange.lan_ipv4 == "192.168.0.0/24"
    assert rules.PREFIX_PUBLIC.id not in rule_ids(text)


def test_documentation_stand_ins_warn_but_a_range_covering_one_is_an_error():
    ok = SEATTLE.replace("prefix: 198.51.100.0/24", "prefix: 198.51.100.0/25")
    bad = SEATTLE.replace("prefix: 198.51.100.0/24", "prefix: 198.51.0.0/16")
    assert rules.PREFIX_PUBLIC.id not in rule_ids(ok)
    assert rules.PREFIX_PUBLIC.id in rule_ids(bad)


def test_announced_path_model():
    assert announced_path(64500, 64501, [64501, 64501]) == (64500, 64501, 64501, 64501)
    assert announced_path(64500, None, []) == (64500,)
    topo = parse(SEATTLE, "x")
    assert [a.path for a in announcements(topo)][:3] == [(64500,), (64500,), (64500, 64501)]


def test_a_prepended_origin_must_be_registered():
    text = SEATTLE.replace("          endpoints: teams-direct-routing\n",
                           "          endpoints: teams-direct-routing\n"
                           "          as-path-prepend: [65537, 64499]\n", 1)
    topo, lines = parse_with_lines(text, "t.yaml")
    found = [f for f in validate(topo, lines).findings if f.rule == rules.ORIGIN_REGISTERED.id]
    assert [f.path for f in found] == ["exchange.members[1].prefixes[0].as-path-prepend[1]"]
    assert "AS64499" in found[0].found


def test_a_redundant_connection_as_a_backup_is_an_error():
    text = SEATTLE.replace("    role: primary\n", "    role: redundant\n    backup-of: sea-1\n")
    assert rule_ids(text).count(rules.BACKUP_LOCATION.id) == 1


def test_report_properties():
    report = validate(parse(SEATTLE.replace("sku: Premium Free", "sku: Basic"), "x"))
    assert not report.ok
    assert [f.rule for f in report.errors] == [rules.PORTAL_SKU.id]
    assert len(report.warnings) == 10
    assert set(report.findings) == set(report.errors) | set(report.warnings)


def test_render_json_is_json_and_says_the_same_as_the_text():
    topo, lines = load_with_lines(SEATTLE_PATH)
    data = render_json(validate(topo, lines), "seattle.yaml")
    assert json.loads(json.dumps(data)) == data
    assert data["ok"] is True and data["errors"] == 0 and data["warnings"] == 10
    first = data["findings"][0]
    assert set(first) == {"rule", "severity", "file", "path", "line", "found", "fix", "title",
                          "wording"}
    assert first["file"] == "seattle.yaml"
    assert (first["rule"], first["path"], first["line"]) == (
        "MAPS-ASN-DOCUMENTATION", "peering.peer-asn", 9)


# ---- validate_change ----

def changed(old: str, new: str) -> list[tuple[str, str]]:
    topo, lines = parse_with_lines(new, "new.yaml")
    report = validate_change(parse(old, "old.yaml"), topo, lines)
    return [(f.path, f.found) for f in report.errors if f.rule == rules.IMMUTABLE.id]


def test_an_unchanged_peering_has_no_change_finding():
    assert changed(SEATTLE, SEATTLE) == []


@pytest.mark.parametrize("old, new, path", [
    ("  name: contoso-ix-seattle\n", "  name: contoso-ix-sea\n", "peering.name"),
    ("  subscription: 00000000-0000-0000-0000-000000000000\n",
     "  subscription: 11111111-1111-1111-1111-111111111111\n", "peering.subscription"),
    ("  resource-group: rg-contoso-peering\n", "  resource-group: rg-other\n",
     "peering.resource-group"),
    ("  peer-asn: 64500\n", "  peer-asn: 64499\n", "peering.peer-asn"),
])
def test_each_immutable_field(old: str, new: str, path: str):
    found = changed(SEATTLE, SEATTLE.replace(old, new))
    assert [p for p, _ in found] == [path]


def test_all_four_changes_at_once_and_mutable_fields_pass():
    new = (SEATTLE.replace("  name: contoso-ix-seattle\n", "  name: b\n")
           .replace("  subscription: 00000000-0000-0000-0000-000000000000\n", "  subscription: s\n")
           .replace("  resource-group: rg-contoso-peering\n", "  resource-group: r\n")
           .replace("  peer-asn: 64500\n", "  peer-asn: 64499\n")
           .replace("max-prefix: 500", "max-prefix: 450"))
    assert len(changed(SEATTLE, new)) == 4
    assert changed(SEATTLE, SEATTLE.replace("max-prefix: 500", "max-prefix: 450")) == []


def test_validate_change_also_checks_the_new_topology():
    new = SEATTLE.replace("  sku: Premium Free\n", "  sku: Basic\n")
    report = validate_change(parse(SEATTLE, "old"), parse(new, "new"))
    assert [f.rule for f in report.errors] == [rules.PORTAL_SKU.id]


def test_a_default_subscription_is_compared_too():
    old = SEATTLE.replace("  subscription: 00000000-0000-0000-0000-000000000000\n", "")
    assert changed(old, SEATTLE) == []


# ---- special-purpose tables ----

@pytest.mark.parametrize("asn, use", [
    (0, Use.RESERVED), (1, Use.PUBLIC), (8075, Use.PUBLIC), (23456, Use.RESERVED),
    (64495, Use.PUBLIC), (64496, Use.DOCUMENTATION), (64511, Use.DOCUMENTATION),
    (64512, Use.PRIVATE), (65534, Use.PRIVATE), (65535, Use.RESERVED),
    (65536, Use.DOCUMENTATION), (65551, Use.DOCUMENTATION), (65552, Use.RESERVED),
    (131071, Use.RESERVED), (131072, Use.PUBLIC), (4199999999, Use.PUBLIC),
    (4200000000, Use.PRIVATE), (4294967294, Use.PRIVATE), (4294967295, Use.RESERVED),
])
def test_asn_classes(asn: int, use: Use):
    assert bogons.asn_use(asn) is use


@pytest.mark.parametrize("prefix, use", [
    ("8.8.8.0/24", Use.PUBLIC), ("10.1.0.0/16", Use.PRIVATE), ("172.31.0.0/16", Use.PRIVATE),
    ("172.32.0.0/16", Use.PUBLIC), ("192.168.1.0/24", Use.PRIVATE), ("100.64.0.0/10", Use.PRIVATE),
    ("100.128.0.0/10", Use.PUBLIC), ("127.0.0.0/8", Use.RESERVED), ("169.254.0.0/16", Use.RESERVED),
    ("224.0.0.0/24", Use.RESERVED), ("240.0.0.0/4", Use.RESERVED),
    ("255.255.255.255/32", Use.RESERVED), ("0.0.0.0/0", Use.RESERVED), ("0.0.0.0/8", Use.RESERVED),
    ("198.18.0.0/15", Use.RESERVED), ("198.19.255.0/24", Use.RESERVED),
    ("198.20.0.0/24", Use.PUBLIC),
    ("192.0.0.0/24", Use.RESERVED), ("192.88.99.0/24", Use.RESERVED),
    ("192.0.2.0/24", Use.DOCUMENTATION), ("198.51.100.0/24", Use.DOCUMENTATION),
    ("203.0.113.128/25", Use.DOCUMENTATION), ("203.0.112.0/23", Use.RESERVED),
    ("2a00:1450::/32", Use.PUBLIC), ("2001:db8:1::/48", Use.DOCUMENTATION),
    ("3fff:100::/24", Use.DOCUMENTATION), ("fd00::/8", Use.PRIVATE), ("fe80::/64", Use.RESERVED),
    ("ff02::/16", Use.RESERVED), ("::1/128", Use.RESERVED), ("::/0", Use.RESERVED),
    ("64:ff9b::/96", Use.RESERVED), ("2002::/16", Use.RESERVED), ("2001:2::/48", Use.RESERVED),
    ("4000::/3", Use.RESERVED), ("100::/64", Use.RESERVED), ("2000::/3", Use.RESERVED),
])
def test_prefix_classes(prefix: str, use: Use):
    assert bogons.classify_prefix(prefix).use is use


def test_the_catalogue_is_well_formed():
    ids = [r.id for r in rules.RULES]
    assert len(ids) == len(set(ids))
    assert all(i.startswith("MAPS-") and i == i.upper() for i in ids)
    assert all(r.wording and r.fix and r.title for r in rules.RULES)
    assert rules.by_id("MAPS-LACP") is rules.LACP


def test_every_rule_is_in_the_docs():
    docs = (ROOT / "docs" / "validation.md").read_text(encoding="utf-8")
    for rule in rules.RULES:
        assert f"`{rule.id}`" in docs
        assert rule.wording.replace("\u201c", '"').replace("\u201d", '"') in docs.replace(
            "\u201c", '"').replace("\u201d", '"')


@pytest.mark.parametrize("prefix", ["0.0.0.0/0", "::/0"])
def test_a_default_route_is_called_a_default_route(prefix: str):
    text = SEATTLE.replace("prefix: 192.0.2.0/24" if ":" not in prefix else
                           "prefix: 2001:db8:100::/48", f"prefix: '{prefix}'")
    topo, lines = parse_with_lines(text, "t.yaml")
    found = [f.found for f in validate(topo, lines).errors if f.rule == rules.PREFIX_PUBLIC.id]
    assert found == [f"{prefix} is the default route (RFC 4632 3.1): it covers every address, "
                     f"not the address space of one network"]


def test_a_prefix_covering_a_special_range_still_names_it():
    assert bogons.classify_prefix("0.0.0.0/7").describe("0.0.0.0/7") == (
        "0.0.0.0/7 covers 0.0.0.0/8 'this network' (RFC 791 3.2, RFC 1122 3.2.1.3)")
