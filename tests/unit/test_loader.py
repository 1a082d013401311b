"""The topology loader: every malformed file ends in a clear error with file, path and line."""
from __future__ import annotations

from pathlib import Path

import pytest

from emulator.core.errors import TopologyError
from emulator.topology.loader import load, parse
from tests.conftest import ROOT

SEATTLE = (ROOT / "topologies" / "seattle.yaml").read_text()


def line_of(text: str, needle: str) -> int:
    return text[:text.index(needle)].count("\n") + 1


def problems(text: str) -> list[str]:
    with pytest.raises(TopologyError) as info:
        parse(text, "bad.yaml")
    return [p.render("bad.yaml") for p in info.value.problems]


def test_seattle_loads_into_typed_models():
    topo = load(ROOT / "topologies" / "seattle.yaml")
    assert topo.lab == "seattle"
    assert topo.peering.peer_asn == 64500
    assert [link.peer_router for link in topo.connections[0].links] == ["sea-pr1", "sea-pr2"]
    assert topo.connections[0].lag.members == 2
    assert [m.name for m in topo.exchange.members] == ["fabrikam", "tailspin"]


def test_yaml_syntax_error_names_file_and_line():
    text = SEATTLE + "\nbroken: [1, 2\n"
    assert problems(text) == [
        f"bad.yaml:{text.count(chr(10)) + 1}: (top): YAML syntax error: expected ',' or ']', "
        f"but got '<stream end>' (while parsing a flow sequence that starts at line "
        f"{line_of(text, 'broken: [')}) [YAML]"]


def test_unknown_field_is_named_with_its_path_and_line():
    text = SEATTLE.replace("  peer-asn: 64500\n", "  peer-asn: 64500\n  peer-asm: 1\n")
    assert problems(text) == [f"bad.yaml:{line_of(text, 'peer-asm')}: peering.peer-asm: unknown field 'peer-asm' [FORMAT]"]


def test_missing_field_is_named():
    text = SEATTLE.replace("  - peer-router: sea-pr1\n", "  - \n")
    found = problems(text)
    assert found[0].startswith("bad.yaml:")
    assert "connections[0].links[0].peer-router: missing required field 'peer-router'" in found[0]


def test_name_too_long_for_an_interface():
    text = SEATTLE.replace("name: sea-pr2\n", "name: sea-peer-router-2\n").replace(
        "peer-router: sea-pr2", "peer-router: sea-peer-router-2")
    found = problems(text)
    assert len(found) == 1
    assert "routers[1].name: name 'sea-peer-router-2' must be 1-15 characters" in found[0]


def test_every_problem_is_reported_at_once():
    text = SEATTLE.replace("lacp: active", "lacp: sometimes", 1).replace(
        "  sku: Premium Free\n", "  sku: Premium Free\n  colour: blue\n")
    assert len(problems(text)) == 2


def test_unknown_references():
    text = SEATTLE.replace("peer-router: sea-pr2", "peer-router: sea-pr9")
    assert problems(text) == [
        f"bad.yaml:{line_of(text, 'peer-router: sea-pr9')}: connections[0].links[1].peer-router: unknown peer router 'sea-pr9' [REFERENCE]"]


def test_host_bits_in_a_prefix():
    text = SEATTLE.replace("prefix: 198.51.100.0/24", "prefix: 198.51.100.1/24")
    assert problems(text) == [
        f"bad.yaml:{line_of(text, '198.51.100.1/24')}: exchange.members[0].prefixes[0].prefix: "
        f"'198.51.100.1/24' has host bits set: the prefix of that length is 198.51.100.0/24 "
        f"[FORMAT]"]


@pytest.mark.parametrize("written", ["198.51.100.0/33", "198.51.100/24", "sbc", "2001:db8::/129"])
def test_a_malformed_prefix_is_not_called_a_host_bits_problem(written: str):
    text = SEATTLE.replace("prefix: 198.51.100.0/24", f"prefix: {written}")
    found = problems(text)
    assert len(found) == 1
    assert f"'{written}' is not a prefix: write an address and a length" in found[0]
    assert "host bits" not in found[0]


def test_missing_file(tmp_path: Path):
    with pytest.raises(TopologyError) as info:
        load(tmp_path / "nope.yaml")
    assert "cannot read the file" in str(info.value)


def test_top_level_must_be_a_mapping():
    assert problems("- a\n- b\n") == [
        "bad.yaml:1: (top): the file must hold a mapping (key: value) at the top [FORMAT]"]


# ---- no input that breaks it: bounded numbers, aliases and messages ----

def test_a_number_past_pythons_conversion_limit_is_a_problem_at_its_line():
    digits = "9" * 5000     # Python refuses int() of more than 4300 digits (CVE-2020-10735)
    text = SEATTLE.replace("  peer-asn: 64500\n", f"  peer-asn: {digits}\n")
    found = problems(text)
    assert found == [f"bad.yaml:{line_of(text, 'peer-asn')}: peering.peer-asn: a number of 5000 "
                     f"characters (99999999999999999999… (5000 characters)) is longer than any a "
                     f"topology holds (at most 40) [YAML]"]


def test_a_long_number_inside_the_bound_is_judged_by_the_field():
    text = SEATTLE.replace("  peer-asn: 64500\n", "  peer-asn: " + "9" * 40 + "\n")
    assert "peering.peer-asn: Input should be less than or equal to 4294967295" in problems(text)[0]


def alias_bomb(levels: int, fan_out: int = 10) -> str:
    """`levels` anchors, each a list of `fan_out` aliases of the one before: fan_out**levels."""
    out = "a0: &a0 [" + ", ".join(["x"] * fan_out) + "]\n"
    for level in range(1, levels):
        out += f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * fan_out) + "]\n"
    return out


def test_an_alias_bomb_is_refused_before_it_is_expanded():
    # 10**8 strings once expanded; the literal field would have quoted all of them.
    text = alias_bomb(8) + SEATTLE.replace("lacp: active", "lacp: *a7", 1)
    assert problems(text) == [
        "bad.yaml: (top): aliases expand this file to more than 100000 values; a topology never "
        "needs that many (is an alias repeated inside another?) [YAML]"]


def test_an_alias_cycle_is_refused():
    assert problems(SEATTLE.replace("  prefixes:\n", "  x: &c [*c]\n  prefixes:\n", 1)) == [
        "bad.yaml: (top): an alias refers to a value that contains it (a cycle); a topology "
        "never needs one [YAML]"]


def test_a_message_quotes_a_bounded_part_of_a_large_value():
    text = alias_bomb(4) + SEATTLE.replace("lacp: active", "lacp: *a3", 1)
    found = problems(text)
    lacp = [p for p in found if "routers[0].lacp" in p]
    assert lacp and "got a list of 10 entries" in lacp[0]
    long_name = "x" * 100_000
    found = problems(SEATTLE.replace("  sku: Premium Free\n", f"  sku: Premium Free\n  {long_name}: 1\n"))
    assert max(len(p) for p in found) < 400


# ---- one key, one value ----

def test_a_key_given_twice_names_both_lines():
    text = SEATTLE.replace("registered-asns:\n", "  prefixes: []\nregistered-asns:\n")
    first, second = line_of(text, "  prefixes:"), line_of(text, "  prefixes: []")
    assert problems(text) == [
        f"bad.yaml:{second}: peering.prefixes: key 'prefixes' is given twice in one mapping, at "
        f"lines {first} and {second}; YAML would keep only the last (merge the two, or remove "
        f"one) [YAML]"]


@pytest.mark.parametrize("written, says", [
    ("2.0", "got '2.0'; asdot 2.0 is written 131072 in asplain (2 × 65536 + 0, RFC 5396)"),
    ("1.10", "got '1.10'; asdot 1.10 is written 65546 in asplain (1 × 65536 + 10, RFC 5396)"),
    ("64500.5e3", "got '64500.5e3'"),
    ("true", "got 'true'"),
    ("'64500'", "got '64500'; write it without quotes: 64500"),
])
def test_an_asn_must_be_an_integer(written: str, says: str):
    text = SEATTLE.replace("  peer-asn: 64500\n", f"  peer-asn: {written}\n")
    found = problems(text)
    assert found == [f"bad.yaml:{line_of(text, 'peer-asn')}: peering.peer-asn: an AS number must "
                     f"be an integer, {says} [FORMAT]"]


def test_an_asn_in_an_as_path_prepend_must_be_an_integer_too():
    text = SEATTLE.replace("          endpoints: teams-direct-routing\n",
                           "          endpoints: teams-direct-routing\n"
                           "          as-path-prepend: [65537, 1.5]\n", 1)
    found = problems(text)
    assert len(found) == 1 and "as-path-prepend[1]: an AS number must be an integer" in found[0]


# ---- interconnect subnets ----

@pytest.mark.parametrize("v4, v6, bad", [
    ("198.18.0.0/31", "2001:db8:ffff::2/127", "ipv4: 198.18.0.0/31 overlaps 198.18.0.0/31 of "
                                               "connections[0].links[0].ipv4"),
    ("198.18.0.2/31", "2001:db8:ffff::/126", "ipv6: 2001:db8:ffff::/126 overlaps "
                                             "2001:db8:ffff::/127 of connections[0].links[0].ipv6"),
])
def test_overlapping_link_subnets_are_an_error(v4: str, v6: str, bad: str):
    text = SEATTLE.replace("ipv4: 198.18.0.2/31", f"ipv4: {v4}").replace(
        "ipv6: 2001:db8:ffff::2/127", f"ipv6: {v6}")
    found = problems(text)
    assert len(found) == 1
    assert f"connections[0].links[1].{bad}: each link needs subnets of its own [ADDRESS]" in found[0]


@pytest.mark.parametrize("field, written, says", [
    ("ipv4", "2001:db8::/127", "2001:db8::/127 is an IPv6 prefix, not IPv4"),
    ("ipv4", "198.18.0.2/32", "198.18.0.2/32 holds one address; a link needs two ends (/31"),
    ("ipv6", "2001:db8:ffff::2/128",
     "2001:db8:ffff::2/128 holds one address; a link needs two ends (/127, RFC 6164)"),
])
def test_a_link_subnet_has_its_family_and_two_ends(field: str, written: str, says: str):
    old = {"ipv4": "ipv4: 198.18.0.2/31", "ipv6": "ipv6: 2001:db8:ffff::2/127"}[field]
    found = problems(SEATTLE.replace(old, f"{field}: {written}"))
    assert len(found) == 1 and f"connections[0].links[1].{field}: {says}" in found[0]


# ---- names the lab creates ----

@pytest.mark.parametrize("name, what", [
    ("sea-ms2", "Microsoft edge router 2 of location sea"), ("ixlan", "the exchange LAN switch"),
    ("internet", "the internet node"),
])
def test_a_router_named_like_a_generated_node_is_a_reference_error(name: str, what: str):
    text = SEATTLE.replace("sea-pr2", name)
    found = problems(text)
    assert len(found) == 1
    assert found[0].startswith(f"bad.yaml:{line_of(text, 'name: ' + name)}: routers[1].name: "
                               f"name {name!r} is taken by a node the lab creates: {what}")
    assert found[0].endswith("[REFERENCE]")


# ---- every stage that can run, at once ----

def test_an_unknown_key_does_not_hide_the_rules():
    from emulator.topology.loader import read
    from emulator.topology.validate import validate
    text = SEATTLE.replace("  peer-asn: 64500\n", "  peer-asn: 64512\n  colour: red\n")
    loaded = read(text, "bad.yaml")
    assert [p.message for p in loaded.problems] == ["unknown field 'colour'"]
    assert loaded.topo is not None and not loaded.exact
    rules = {f.rule for f in validate(loaded.topo, loaded.lines).errors}
    assert "MAPS-ASN-PUBLIC" in rules


def test_an_unknown_router_does_not_hide_the_rules():
    from emulator.topology.loader import read
    from emulator.topology.validate import validate
    text = SEATTLE.replace("peer-router: sea-pr2", "peer-router: sea-pr9").replace(
        "sku: Premium Free", "sku: Basic")
    loaded = read(text, "bad.yaml")
    assert [p.rule for p in loaded.problems] == ["REFERENCE"]
    assert loaded.topo is not None and not loaded.references_ok
    assert [f.rule for f in validate(loaded.topo, loaded.lines).errors] == ["MAPS-PORTAL-SKU"]


def test_a_required_field_with_a_bad_value_stops_before_the_rules():
    from emulator.topology.loader import read
    loaded = read(SEATTLE.replace("  peer-asn: 64500\n", "  peer-asn: many\n"), "bad.yaml")
    assert loaded.topo is None and len(loaded.problems) == 1


def test_a_file_that_is_not_utf8_names_the_line(tmp_path: Path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes(SEATTLE.replace("Seattle", "S\xe9attle").encode("latin-1"))
    with pytest.raises(TopologyError) as info:
        load(path)
    assert [p.render("x") for p in info.value.problems] == [
        f"x:{line_of(SEATTLE, 'Seattle')}: (top): cannot read the file: byte 0xe9 at offset "
        f"{SEATTLE.index('Seattle') + 1} is not UTF-8 (YAML 1.2 5.2); save the file as UTF-8 "
        f"[FILE]"]


def test_a_control_character_is_a_yaml_problem_with_its_line():
    text = SEATTLE.replace("metro: Seattle", "metro: Sea\x07ttle")
    assert problems(text) == [f"bad.yaml:{line_of(text, 'metro')}: (top): YAML error: character "
                              f"#x0007 at line {line_of(text, 'metro')} is not allowed in YAML "
                              f"(YAML 1.2 5.1) [YAML]"]
