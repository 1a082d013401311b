"""`mapslab check`: judge a running lab (a check the held turn-up cannot judge yet says so)."""
from __future__ import annotations

import argparse
from pathlib import Path

from emulator.cli.common import format_arg, lab_arg, lab_of, print_json


def cmd_check(args: argparse.Namespace) -> int:
    from emulator.core import hold
    from emulator.judge import baseline, staged
    from emulator.lab import lifecycle as lab
    before = baseline.read(Path(args.against)) if args.against else None
    with lab.attached(lab_of(args.lab)) as running:
        verdicts = staged.run_all(running)
        held = hold.read(running.dir.path).step
        now = baseline.record(running, verdicts) if before is not None else None
    differences = baseline.compare(before, now) if before is not None else []
    if args.format == "json":
        data = staged.to_json(running.plan.lab, verdicts, held)
        if before is not None:
            data["against"] = {"baseline": args.against,
                               "differences": [d.render() for d in differences]}
        print_json(data)
    else:
        print(staged.render(verdicts))
        if before is not None:
            print("\n" + baseline.render(before, now, differences, args.against))
    if before is None:
        return 3 if staged.failed(verdicts) else 0
    return 3 if differences else 0


def add_parser(sub) -> None:
    p = sub.add_parser("check", help="judge a running lab: LAG before BGP, mesh, prefixes")
    lab_arg(p)
    p.add_argument("--against", metavar="BASELINE",
                   help="also compare with a baseline of `mapslab record`; exit 3 on any "
                        "difference (a check that fails in both is none)")
    format_arg(p)
    p.set_defaults(func=cmd_check)
