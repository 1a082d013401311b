"""Golden tests of `mapslab validate`: each case file beside the exact report it must produce.

cases/<RULE-ID>.yaml breaks exactly that rule (on a shared base whose one finding is the
documentation-prefix warning); cases/<RULE-ID>.expected holds the rendered text report.
A case with a <name>.against.yaml beside it is checked as a change from that file.
Regenerate the .expected files after a deliberate change with MAPSLAB_REGOLD=1.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from emulator.topology import rules
from emulator.topology.loader import load, load_with_lines
from emulator.topology.validate import Report, render_text, validate, validate_change

CASES = Path(__file__).resolve().parent / "cases"
BASE_WARNING = rules.PREFIX_DOCUMENTATION.id


def case_files() -> list[Path]:
    return sorted(p for p in CASES.glob("*.yaml") if not p.name.endswith(".against.yaml"))


def report_of(case: Path) -> Report:
    topo, lines = load_with_lines(case)
    against = case.with_name(case.stem + ".against.yaml")
    if against.exists():
        return validate_change(load(against), topo, lines)
    return validate(topo, lines)


@pytest.mark.parametrize("case", case_files(), ids=lambda p: p.stem)
def test_report_matches_golden(case: Path):
    text = render_text(report_of(case), case.name)
    expected = case.with_suffix(".expected")
    if os.environ.get("MAPSLAB_REGOLD"):
        expected.write_text(text, encoding="utf-8")
    assert expected.exists(), f"no {expected.name}; run with MAPSLAB_REGOLD=1 to create it"
    assert text == expected.read_text(encoding="utf-8")


@pytest.mark.parametrize("case", [p for p in case_files() if p.stem.startswith("MAPS-")],
                         ids=lambda p: p.stem)
def test_case_breaks_exactly_its_rule(case: Path):
    found = {f.rule for f in report_of(case).findings}
    assert case.stem in found
    assert found - {BASE_WARNING} <= {case.stem}


def test_every_rule_has_a_case():
    assert {r.id for r in rules.RULES} <= {p.stem for p in case_files()}


def test_a_case_per_error_rule_fails_and_per_warning_rule_passes():
    for case in case_files():
        if case.stem.startswith("MAPS-"):
            assert report_of(case).ok == (rules.by_id(case.stem).severity is rules.Severity.WARNING)


def test_six_broken_rules_are_reported_in_one_run():
    report = report_of(CASES / "six-rules.yaml")
    assert not report.ok
    assert sorted({f.rule for f in report.errors}) == sorted([
        "MAPS-ASN-PUBLIC", "MAPS-PORTAL-SKU", "MAPS-NO-STATEFUL-FIREWALL", "MAPS-LACP",
        "MAPS-SAME-BANDWIDTH", "MAPS-PREFIX-PUBLIC"])
    assert len(report.errors) == 6
