"""`mapslab validate`: every finding of every stage that can run, in one report.

The stages: the file (readable, UTF-8, bounded), the YAML, the shape, the references between
names, the routers' programs and their own configuration files, the page's rules, and whether
names and addresses fit a lab plan. A stage runs whenever what it reads could be built; a
stage that cannot run is named in the report. Exit 0 when no stage found an error, 2 otherwise
(the same code as every other bad input), with text or exactly one JSON object.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from typing import TYPE_CHECKING

from emulator.core.errors import MapsLabError, PlanError, Problem

if TYPE_CHECKING:
    from emulator.topology.intent import Topology
    from emulator.topology.loader import Loc
    from emulator.topology.validate import Report

SHAPE_FIRST = "until the errors above are fixed"


def _programs(topo: Topology, lines: dict[Loc, int], source: str) -> list[Problem]:
    from emulator.nodes import preflight
    from emulator.topology.yamlread import clip
    try:
        return preflight.problems(topo, lines, Path(source).resolve().parent)
    except MapsLabError as exc:
        return [Problem("", clip(f"the programs' own checks could not run: {exc}", 300), None,
                        "NODE-CONFIG")]


def _plan(topo: Topology, source: str) -> list[Problem]:
    from emulator.plan.resolve import resolve
    from emulator.topology.yamlread import clip
    try:
        resolve(topo, Path(source).resolve().parent)
    except PlanError as exc:
        return [Problem("", clip(str(exc), 300), None, "PLAN")]
    return []


def check(source: str, against: str | None = None) -> tuple[Report, list[str]]:
    """The report of every stage that could run, and what could not be checked (and why)."""
    from emulator.topology.loader import read_file
    from emulator.topology.validate import Report, problem_findings, validate, validate_change
    loaded = read_file(source)
    skipped: list[str] = []
    extra = list(problem_findings(loaded.problems))
    topo = loaded.topo
    if topo is None:
        skipped.append(f"the page's rules, the routers' programs and the lab plan: {SHAPE_FIRST}")
        return Report(()).with_findings(extra), skipped
    extra += problem_findings(_programs(topo, loaded.lines, source))
    old = read_file(against) if against else None
    if old is not None:
        extra += problem_findings(old.problems, file=against)
    if old is not None and old.topo is not None and not old.problems:
        report = validate_change(old.topo, topo, loaded.lines)
    else:
        report = validate(topo, loaded.lines)
        if old is not None:
            skipped.append(f"changes from {against}: until its errors are fixed")
    if not loaded.exact:
        skipped.append(f"the lab plan: {SHAPE_FIRST} (the rules ran on the rest of the file)")
    elif not loaded.references_ok:
        skipped.append("the lab plan: until the reference errors are fixed")
    else:
        extra += problem_findings(_plan(topo, source))
    return report.with_findings(extra), skipped


def cmd_validate(args: argparse.Namespace) -> int:
    from emulator.topology.validate import render_json, render_text
    report, skipped = check(args.topology, args.against)
    if args.format == "json":
        data = render_json(report, args.topology)
        data["not-checked"] = skipped
        print(json.dumps(data, indent=2))
    else:
        text = render_text(report, args.topology)
        notes = "".join(f"not checked: {line}\n" for line in skipped)
        print(text + notes, end="", file=sys.stdout if report.ok else sys.stderr)
    return 0 if report.ok else 2


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate", help="check a topology against every rule of the MAPS page",
                       description="Exit 0 when the topology has no error (warnings allowed), "
                       "2 when it has any: an unreadable file, YAML, format, reference, program, "
                       "plan or rule error. The text report goes to standard output, or to "
                       "standard error when there is an error; --format json always prints "
                       "one JSON object on standard output.")
    p.add_argument("topology")
    p.add_argument("--against", metavar="OLD", help="also report changes of immutable fields")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.set_defaults(func=cmd_validate)
