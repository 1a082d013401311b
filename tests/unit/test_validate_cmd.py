"""`mapslab validate`: one report of every stage that can run, one exit-code convention
(0: no error; 2: any error, of the file or of the page's rules), and with --format json exactly
one JSON object on standard output whatever the outcome."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from emulator.cli import validate_cmd
from tests.conftest import ROOT

SEATTLE = (ROOT / "topologies" / "seattle.yaml").read_text()


def line_of(text: str, needle: str) -> int:
    return text[:text.index(needle)].count("\n") + 1


def run(argv: list[str]) -> int:
    """The validate command as `mapslab` parses it (its own parser, as main.py adds it)."""
    top = argparse.ArgumentParser(prog="mapslab")
    validate_cmd.add_parser(top.add_subparsers(dest="command", required=True))
    args = top.parse_args(["validate", *argv])
    return args.func(args)


def write(tmp_path: Path, text: str | bytes, name: str = "t.yaml") -> str:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return str(path)


OUTCOMES = {
    "valid": (SEATTLE, 0, []),
    "rule error": (SEATTLE.replace("sku: Premium Free", "sku: Basic"), 2, ["MAPS-PORTAL-SKU"]),
    "YAML error": (SEATTLE + "\nbroken: [1, 2\n", 2, ["YAML"]),
    "shape error": (SEATTLE.replace("  peer-asn: 64500\n", "  peer-asn: many\n"), 2, ["FORMAT"]),
    "reference error": (SEATTLE.replace("peer-router: sea-pr2", "peer-router: sea-pr9"), 2,
                        ["REFERENCE"]),
    "not UTF-8": (SEATTLE.encode("utf-8").replace(b"Seattle", b"S\xe9attle"), 2, ["FILE"]),
    "empty": ("", 2, ["FORMAT"]),
    "not a mapping": ("- a\n", 2, ["FORMAT"]),
    "huge number": (SEATTLE.replace("64500", "9" * 5000, 1), 2, ["YAML"]),
}


@pytest.mark.parametrize("name", OUTCOMES)
def test_json_is_one_object_on_stdout_for_every_outcome(name: str, tmp_path, capsys):
    text, code, rules = OUTCOMES[name]
    path = write(tmp_path, text)
    assert run([path, "--format", "json"]) == code
    out, err = capsys.readouterr()
    data = json.loads(out)          # exactly one JSON document: json.loads refuses trailing data
    assert isinstance(data, dict) and err == ""
    assert data["ok"] is (code == 0)
    assert [f["rule"] for f in data["findings"] if f["severity"] == "error"] == rules
    assert all(f["file"] == path for f in data["findings"])


def test_json_for_a_missing_file(tmp_path, capsys):
    assert run([str(tmp_path / "nope.yaml"), "--format", "json"]) == 2
    data = json.loads(capsys.readouterr().out)
    assert data["findings"][0]["rule"] == "FILE"
    assert "cannot read the file" in data["findings"][0]["found"]
    assert data["not-checked"]


@pytest.mark.parametrize("name", OUTCOMES)
def test_text_goes_to_stdout_when_valid_and_to_stderr_with_an_error(name: str, tmp_path, capsys):
    text, code, rules = OUTCOMES[name]
    path = write(tmp_path, text)
    assert run([path]) == code
    out, err = capsys.readouterr()
    report = out if code == 0 else err
    assert (out if code else err) == ""
    assert "Traceback" not in report
    assert f"{path}: {'valid' if code == 0 else 'not valid'}: " in report
    for rule in rules:
        assert f"[{rule}]" in report


def test_a_rule_error_exits_2_like_every_other_topology_error(tmp_path, capsys):
    path = write(tmp_path, SEATTLE.replace("lacp: active", "lacp: off", 1))
    assert run([path]) == 2
    assert "[MAPS-LACP]" in capsys.readouterr().err


def test_an_unknown_key_does_not_hide_a_private_peer_asn(tmp_path, capsys):
    text = SEATTLE.replace("  peer-asn: 64500\n", "  peer-asn: 64512\n  colour: red\n")
    assert run([write(tmp_path, text), "--format", "json"]) == 2
    data = json.loads(capsys.readouterr().out)
    found = {(f["rule"], f["path"], f["line"]) for f in data["findings"]}
    assert ("FORMAT", "peering.colour", line_of(text, "colour")) in found
    assert ("MAPS-ASN-PUBLIC", "peering.peer-asn", line_of(text, "peer-asn")) in found
    assert data["not-checked"] == [
        "the lab plan: until the errors above are fixed (the rules ran on the rest of the file)"]


def test_an_unknown_router_does_not_hide_the_rule_errors(tmp_path, capsys):
    text = SEATTLE.replace("peer-router: sea-pr2", "peer-router: sea-pr9").replace(
        "sku: Premium Free", "sku: Basic").replace("lacp: active", "lacp: off", 1)
    assert run([write(tmp_path, text), "--format", "json"]) == 2
    data = json.loads(capsys.readouterr().out)
    assert sorted(f["rule"] for f in data["findings"] if f["severity"] == "error") == [
        "MAPS-LACP", "MAPS-PORTAL-SKU", "REFERENCE"]


def test_a_router_named_like_an_edge_is_found_with_file_line_path_and_rule(tmp_path, capsys):
    text = SEATTLE.replace("sea-pr2", "sea-ms2")
    path = write(tmp_path, text)
    assert run([path]) == 2
    err = capsys.readouterr().err
    assert (f"{path}:{line_of(text, 'name: sea-ms2')}: error: routers[1].name: name 'sea-ms2' is "
            f"taken by a node the lab creates: Microsoft edge router 2 of location sea") in err
    assert "[REFERENCE]" in err


def test_a_host_route_validates_and_plans(tmp_path, capsys):
    text = SEATTLE.replace("prefix: 192.0.2.0/24", "prefix: 192.0.2.7/32").replace(
        "prefix: 2001:db8:100::/48", "prefix: 2001:db8:100::1/128")
    assert run([write(tmp_path, text)]) == 0
    assert "valid: 0 errors" in capsys.readouterr().out


def test_the_programs_check_and_the_rules_in_one_report(tmp_path, capsys):
    text = SEATTLE.replace("    software: frr\n", "    software: junos\n", 1).replace(
        "sku: Premium Free", "sku: Basic")
    assert run([write(tmp_path, text)]) == 2
    err = capsys.readouterr().err
    assert "routers[0].software: no peer-router runs 'junos'" in err and "[NODE-SOFTWARE]" in err
    assert "[MAPS-PORTAL-SKU]" in err


def test_against_a_broken_old_file_still_checks_the_new_one(tmp_path, capsys):
    old = write(tmp_path, "peering: [", "old.yaml")
    new = write(tmp_path, SEATTLE.replace("sku: Premium Free", "sku: Basic"), "new.yaml")
    assert run([new, "--against", old, "--format", "json"]) == 2
    data = json.loads(capsys.readouterr().out)
    assert {(f["rule"], f["file"]) for f in data["findings"] if f["severity"] == "error"} == {
        ("MAPS-PORTAL-SKU", new), ("YAML", old)}
    assert data["not-checked"] == [f"changes from {old}: until its errors are fixed"]


def test_main_has_the_validate_command():
    from emulator.cli import main
    assert validate_cmd in main._COMMAND_MODULES


def test_against_a_valid_old_file_reports_the_immutable_change(tmp_path, capsys):
    old = write(tmp_path, SEATTLE, "old.yaml")
    new = write(tmp_path, SEATTLE.replace("  peer-asn: 64500\n", "  peer-asn: 64499\n"), "new.yaml")
    assert run([new, "--against", old]) == 2
    err = capsys.readouterr().err
    assert "peering.peer-asn: peer-asn changed from 64500 to 64499 [MAPS-IMMUTABLE]" in err


def test_through_main_a_file_error_is_one_json_object_and_exit_2(tmp_path, capsys):
    from emulator.cli.main import main
    assert main(["validate", "--format", "json", str(tmp_path / "nope.yaml")]) == 2
    out, err = capsys.readouterr()
    assert json.loads(out)["findings"][0]["rule"] == "FILE" and err == ""
