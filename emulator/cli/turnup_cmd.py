"""`mapslab continue LAB [--to STEP]`: take a held turn-up's next steps (`up --pause-at`)."""
from __future__ import annotations

import argparse

from emulator.cli.common import lab_of, progress
from emulator.core.hold import ORDER


def cmd_continue(args: argparse.Namespace) -> int:
    from emulator.lab import lifecycle
    from emulator.observe import status
    running = lifecycle.resume(lab_of(args.lab), args.to, progress=progress)
    try:
        print()
        print(status.status_table(status.status(running)))
        for problem in running.degraded:
            print(f"degraded: {problem}; `mapslab check {running.plan.lab}` shows the evidence")
    finally:
        running.close()
    return 3 if running.degraded else 0


def add_parser(sub) -> None:
    p = sub.add_parser("continue", help="take the next steps of a turn-up held by `up "
                                        "--pause-at` (default: to its end)")
    p.add_argument("lab", help="lab name or its topology file")
    p.add_argument("--to", metavar="STEP", help="stop again once this step is reached: "
                                                + ", ".join(ORDER))
    p.set_defaults(func=cmd_continue)
