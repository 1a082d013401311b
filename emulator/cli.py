"""The `mapslab` command: thin, it calls the same functions as the tests."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from emulator import names
from emulator.errors import MapsLabError, TopologyError


def _lab_name(value: str) -> str:
    problem = names.lab_name_problem(value)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return value


def _lab_of(topology_or_name: str) -> str:
    path = Path(topology_or_name)
    if path.suffix in (".yaml", ".yml") or path.exists():
        from emulator.loader import load
        return load(path).lab
    return _lab_name(topology_or_name)


def cmd_up(args: argparse.Namespace) -> int:
    from emulator import lab, report
    running = lab.up(args.topology, progress=lambda line: print(line, flush=True))
    try:
        print()
        print(report.status_table(report.status(running)))
        print(f"\nlab {running.plan.lab!r} is up; `mapslab status {running.plan.lab}`, "
              f"`mapslab down {running.plan.lab}`")
    finally:
        running.close()
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    from emulator import lab
    result = lab.down(_lab_of(args.lab))
    if result.namespaces or result.was_recorded:
        print(f"lab {result.lab!r}: removed {result.namespaces} namespaces and their processes")
    else:
        print(f"lab {result.lab!r}: nothing to remove")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from emulator import lab, report
    running = lab.open_lab(_lab_of(args.lab))
    try:
        status = report.status(running)
    finally:
        running.close()
    if args.format == "json":
        print(json.dumps(report.status_json(status), indent=2))
    else:
        print(report.status_table(status))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from emulator import checks, lab
    running = lab.open_lab(_lab_of(args.lab))
    try:
        verdicts = checks.run_all(running)
    finally:
        running.close()
    print(checks.render(verdicts))
    return 0 if all(v.passed for v in verdicts) else 3


def cmd_demo(args: argparse.Namespace) -> int:
    """Up, show, check, down: the whole turn-up of one topology in one command."""
    from emulator import checks, lab, report
    name = _lab_of(args.topology)
    try:
        running = lab.up(args.topology, progress=lambda line: print(line, flush=True))
        try:
            print()
            print(report.status_table(report.status(running)))
            print()
            verdicts = checks.run_all(running)
            print(checks.render(verdicts))
        finally:
            running.close()
    finally:
        result = lab.down(name)
        print(f"\nlab {name!r} removed ({result.namespaces} namespaces)")
    return 0 if all(v.passed for v in verdicts) else 3


def cmd_validate(args: argparse.Namespace) -> int:
    from emulator.loader import load
    from emulator.resolve import resolve
    resolve(load(args.topology))
    print(f"{args.topology}: the topology file is well-formed")
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="mapslab", description=__doc__)
    sub = top.add_subparsers(dest="command", required=True)
    p = sub.add_parser("up", help="build a lab from a topology file")
    p.add_argument("topology")
    p.set_defaults(func=cmd_up)
    p = sub.add_parser("down", help="remove a lab (idempotent)")
    p.add_argument("lab", help="lab name or its topology file")
    p.set_defaults(func=cmd_down)
    p = sub.add_parser("status", help="LAGs, members and BGP sessions of a running lab")
    p.add_argument("lab", help="lab name or its topology file")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(func=cmd_status)
    p = sub.add_parser("check", help="judge a running lab: LAG before BGP, mesh, prefixes")
    p.add_argument("lab", help="lab name or its topology file")
    p.set_defaults(func=cmd_check)
    p = sub.add_parser("demo", help="up, status, check and down in one go")
    p.add_argument("topology", nargs="?", default="topologies/seattle.yaml")
    p.set_defaults(func=cmd_demo)
    p = sub.add_parser("validate", help="check a topology file")
    p.add_argument("topology")
    p.set_defaults(func=cmd_validate)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except TopologyError as exc:
        print(f"error: {exc.source}: {len(exc.problems)} problem(s)", file=sys.stderr)
        for problem in exc.problems:
            print("  " + problem.render(exc.source), file=sys.stderr)
        return 2
    except MapsLabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
