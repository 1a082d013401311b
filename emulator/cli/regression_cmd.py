"""`mapslab test` (a regression run: up, checks, failovers, down, JUnit and JSON evidence) and
`mapslab record` (a baseline for `mapslab check LAB --against FILE`)."""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from contextlib import contextmanager
from pathlib import Path

from emulator.cli.common import lab_of as _lab_of
from emulator.cli.common import progress as _progress
from emulator.core.errors import UsageError


def _writable(option: str, value: str) -> Path:
    """An output file whose folder exists and can be written, checked before the lab is built."""
    path = Path(value)
    folder = path.resolve().parent
    if path.is_dir():
        raise UsageError(f"{option} {value}: is a directory, expected a file name")
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        raise UsageError(f"{option} {value}: cannot write into {folder}")
    return path


@contextmanager
def _terminated_as_interrupt():
    """A CI job's SIGTERM tears the lab down as Ctrl-C does (Python's default would not)."""
    owner = os.getpid()

    def interrupt(signum, frame):
        if os.getpid() != owner:
            # A forked child inherits this handler: pyroute2's namespace helpers are stopped
            # with SIGTERM and must die of it, not unwind into their parent's code and hang.
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)
            return
        raise KeyboardInterrupt
    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def cmd_test(args: argparse.Namespace) -> int:
    from emulator.judge import junit, regression
    from emulator.topology.loader import load
    source = Path(args.topology)
    topo = load(source)
    overrides = regression.parse_routers(args.router or [], topo, args.topology)
    chosen = regression.parse_scenarios(args.scenarios)
    on = regression.lab_runtime(args.runtime, args.dir, args.overrides)
    junit_file = _writable("--junit", args.junit)
    json_file = _writable("--json", args.json)
    if junit_file.resolve() == json_file.resolve():
        raise UsageError(f"--junit and --json name the same file {args.junit}")
    with _terminated_as_interrupt():
        run = regression.run(source, topo, overrides, chosen, keep=args.keep, progress=_progress,
                             on=on)
    junit.write(junit_file, f"mapslab {run.lab}", run.cases, regression.junit_properties(run),
                run.started)
    json_file.write_text(json.dumps(regression.evidence(run), indent=2, default=str) + "\n",
                         encoding="utf-8")
    counts = {k: sum(1 for c in run.cases if c.outcome == k)
              for k in ("passed", "failed", "error", "skipped")}
    print(f"\n{len(run.checks)} checks, {len(run.scenarios)} scenarios: "
          + ", ".join(f"{n} {k}" for k, n in counts.items() if n)
          + f"; wrote {junit_file} and {json_file}")
    if run.kept:
        runtime = f" --runtime {run.runtime}" if on.deploys else ""
        print(f"lab {run.lab!r} kept up; `mapslab down{runtime} {run.lab}` removes it")
    elif run.left_behind:
        print(f"warning: left behind: {', '.join(run.left_behind)}", file=sys.stderr)
    return 0 if run.passed else 3


def cmd_record(args: argparse.Namespace) -> int:
    from emulator.judge import baseline, checks
    from emulator.lab import lifecycle as lab
    out = _writable("--out", args.out)
    with lab.attached(_lab_of(args.lab)) as running:
        verdicts = checks.run_all(running)
        recorded = baseline.record(running, verdicts)
    baseline.write(recorded, out)
    print(checks.render(verdicts))
    print(f"\nwrote {out}: {len(recorded.sessions)} sessions, {len(recorded.prefix_counts)} peer "
          f"routers' prefix counts, {sum(len(v) for v in recorded.edges.values())} edge verdicts, "
          f"{len(recorded.checks)} checks, {len(recorded.failovers)} failover runs; compare a lab "
          f"with it: `mapslab check LAB --against {out}`")
    return 0


def add_parser(sub) -> None:
    from emulator.judge import scenarios
    from emulator.runtime import registry as runtimes
    p = sub.add_parser(
        "test", help="a regression run: up, every check, failover scenarios, down; JUnit XML "
                     "and JSON evidence",
        description="Bring the topology up (with other router programs or configurations on "
                    "its peer routers if asked), run every check and the chosen failover "
                    "scenarios, tear the lab down (also on failure or Ctrl-C) and write the "
                    "results. Exit 0: all passed; 3: a check or scenario failed; 2: bad input.")
    p.add_argument("topology")
    p.add_argument("--router", action="append", metavar="NODE=SOFTWARE[:CONFIG]",
                   help="run SOFTWARE on peer router NODE, with the configuration file CONFIG "
                        "(relative to the current directory) or the lab's own; repeatable")
    p.add_argument("--scenarios", metavar="S1,S2|all",
                   help="failover scenarios to run, each on the first target of its kind "
                        f"({', '.join(scenarios.names())}); default: none")
    p.add_argument("--junit", required=True, metavar="FILE", help="JUnit XML to write")
    p.add_argument("--json", required=True, metavar="FILE",
                   help="JSON evidence to write: every observation behind every verdict")
    p.add_argument("--keep", action="store_true",
                   help="leave the lab up afterwards (faults undone), e.g. for `mapslab record`")
    # Checked by the command, not by argparse's choices, so that a bad one is named with exit 2
    # like every other bad input of this command.
    p.add_argument("--runtime", default=runtimes.names()[0],
                   help="where the lab runs: " + "; ".join(
                       f"{name}: {kind.summary}" for name, kind in runtimes.kinds().items()))
    deploying = ", ".join(runtimes.names(deploying=True))
    p.add_argument("--dir", help=f"{deploying}: where to render the lab (default: a temporary "
                                 f"folder; with --keep clab/LAB)")
    p.add_argument("--overrides", help=f"{deploying}: YAML of per-router kind/image/startup-config")
    p.set_defaults(func=cmd_test)
    p = sub.add_parser("record", help="snapshot a running lab as a baseline for "
                                      "`mapslab check LAB --against FILE`")
    p.add_argument("lab", help="lab name or its topology file")
    p.add_argument("--out", default="baseline.json", metavar="FILE",
                   help="baseline file to write (default: baseline.json)")
    p.set_defaults(func=cmd_record)
