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
        f"bad.yaml:{text.count(chr(10)) + 1}: (top): YAML syntax error: expected ',' or ']', but got '<stream end>' [YAML]"]


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
    assert "host bits" in problems(text)[0]


def test_missing_file(tmp_path: Path):
    with pytest.raises(TopologyError) as info:
        load(tmp_path / "nope.yaml")
    assert "cannot read the file" in str(info.value)


def test_top_level_must_be_a_mapping():
    assert problems("- a\n- b\n") == [
        "bad.yaml:1: (top): the file must hold a mapping (key: value) at the top [FORMAT]"]
