"""The `mapslab` command: thin, it calls the same functions as the tests."""
from __future__ import annotations

import argparse
import atexit
import json
import os
import sys
from pathlib import Path

from emulator.cli import (change_cmd, check_cmd, contract_cmd, events_cmd, exec_cmd, peering_cmd,
                          portal_cmd, probe_cmd, regression_cmd, turnup_cmd, validate_cmd)
from emulator.cli.common import lab_of as _lab_of
from emulator.cli.common import positive as _positive
from emulator.cli.common import progress as _progress
from emulator.core.errors import (MapsLabError, NoSuchLab, TopologyError, UsageError,
                                  ValidationFailed)


# Commands that live in modules of their own: each has add_parser(subparsers).
_COMMAND_MODULES = (contract_cmd, regression_cmd, validate_cmd, turnup_cmd, portal_cmd, check_cmd,
                    peering_cmd, events_cmd, probe_cmd, change_cmd, exec_cmd)


def _clab_dir(args: argparse.Namespace, lab_name: str) -> Path:
    return Path(args.dir) if args.dir else Path("clab") / lab_name


def _clab_overrides(args: argparse.Namespace, deployment):
    return deployment.overrides(Path(args.overrides)) if args.overrides else None


def cmd_render(args: argparse.Namespace) -> int:
    from emulator.topology.loader import load
    from emulator.plan.resolve import resolve
    from emulator.runtime import registry as runtimes
    deployment = runtimes.get(args.runtime).deployment()
    plan = resolve(load(args.topology), Path(args.topology).resolve().parent)
    rendered = deployment.render(plan, Path(args.dir), _clab_overrides(args, deployment))
    print(f"wrote {rendered.topology_file} and {len(rendered.files) - 1} node files; "
          f"deploy with `{args.runtime} deploy -t {rendered.topology_file}`")
    return 0


def cmd_up_containerlab(args: argparse.Namespace) -> int:
    """Up on a runtime whose own tool deploys the rendered plan (containerlab)."""
    from emulator.topology.loader import load
    from emulator.plan.resolve import resolve
    from emulator.runtime import registry as runtimes
    deployment = runtimes.get(args.runtime).deployment()
    plan = resolve(load(args.topology), Path(args.topology).resolve().parent)
    reason = deployment.blocker()
    if reason:
        print(f"error: {reason}.\nWhere it cannot deploy, render the lab only: "
              f"mapslab render --runtime {args.runtime} {args.topology} DIR", file=sys.stderr)
        return 1
    rendered = deployment.up(plan, _clab_dir(args, plan.lab), _clab_overrides(args, deployment),
                             progress=_progress)
    print(f"lab {plan.lab!r} deployed with {args.runtime} ({rendered.topology_file}); "
          f"`mapslab down --runtime {args.runtime} {rendered.topology_file}` removes it")
    return 0


def cmd_up(args: argparse.Namespace) -> int:
    from emulator.runtime import registry as runtimes
    if runtimes.get(args.runtime).deployment is not None:
        if args.pause_at:
            raise UsageError(f"--pause-at: the {args.runtime} runtime deploys a lab whole; "
                             f"rehearse step by step on the embedded runtime (netns)")
        return cmd_up_containerlab(args)
    from emulator.lab import lifecycle as lab
    from emulator.observe import status
    running = lab.up(args.topology, progress=_progress, validate_rules=not args.skip_validation,
                     turnup=args.turnup, pause_at=args.pause_at)
    try:
        print()
        print(status.status_table(status.status(running)))
        print(f"\nlab {running.plan.lab!r} is up; `mapslab status {running.plan.lab}`, "
              f"`mapslab down {running.plan.lab}`")
        for problem in running.degraded:
            print(f"degraded: {problem}; `mapslab check {running.plan.lab}` shows the evidence")
    finally:
        running.close()
    return 3 if running.degraded else 0


def cmd_down(args: argparse.Namespace) -> int:
    from emulator.runtime import registry as runtimes
    if runtimes.get(args.runtime).deployment is not None:
        deployment = runtimes.get(args.runtime).deployment()
        reason = deployment.blocker()
        if reason:
            print(f"error: {reason}", file=sys.stderr)
            return 1
        deployment.down(Path(args.lab))
        print(f"destroyed the {args.runtime} lab of {args.lab}")
        return 0
    from emulator.lab import teardown
    result = teardown.down(_lab_of(args.lab))
    if result.namespaces or result.was_recorded:
        print(f"lab {result.lab!r}: removed {result.namespaces} namespaces and their processes")
    else:
        print(f"lab {result.lab!r}: nothing to remove")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from emulator.lab import lifecycle as lab
    from emulator.observe import status
    with lab.attached(_lab_of(args.lab)) as running:
        found = status.status(running)
    if args.format == "json":
        print(json.dumps(status.status_json(found), indent=2))
    else:
        print(status.status_table(found))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Up, show, check, down: the whole turn-up of one topology in one command."""
    from emulator.judge import checks
    from emulator.lab import lifecycle as lab
    from emulator.observe import status
    name = _lab_of(args.topology)
    try:
        running = lab.up(args.topology, progress=_progress)
        try:
            print()
            print(status.status_table(status.status(running)))
            print()
            verdicts = checks.run_all(running)
            print(checks.render(verdicts))
        finally:
            running.close()
    finally:
        result = lab.down(name)
        print(f"\nlab {name!r} removed ({result.namespaces} namespaces)")
    return 0 if all(v.passed for v in verdicts) else 3


def cmd_fail(args: argparse.Namespace) -> int:
    from emulator.judge import scenarios
    from emulator.lab import lifecycle as lab
    with lab.attached(_lab_of(args.lab)) as running:
        fault = scenarios.inject(running, args.scenario, args.target, args.member)
    on_member = scenarios.get(fault.scenario).target_kind is scenarios.TargetKind.MEMBER
    print(f"injected {fault.scenario} on {fault.target}"
          + (f" member {fault.member}" if on_member else "")
          + f"; `mapslab recover {running.plan.lab}` undoes it")
    return 0


def cmd_recover(args: argparse.Namespace) -> int:
    from emulator.judge import harness, scenarios
    from emulator.lab import lifecycle as lab
    from emulator.lab import revive
    with lab.attached(_lab_of(args.lab)) as running:
        undone = scenarios.recover(running)
        restarted = revive.restart_stopped(running)      # programs that died, faults or not
        harness.settle(running)
    print(f"recovered {len(undone)} fault(s)"
          + "".join(f"; restarted {p.node}'s {p.name}" for p in restarted)
          + "; every LAG, session and prefix is back")
    return 0


def cmd_failover(args: argparse.Namespace) -> int:
    from emulator.judge import checks
    from emulator.judge import harness
    from emulator.lab import lifecycle as lab
    with lab.attached(_lab_of(args.lab)) as running:
        verdict = harness.judge(harness.run(running, args.scenario, args.target, args.member,
                                            rate=args.rate))
    print(checks.render([verdict]))
    return 0 if verdict.passed else 3


def cmd_report(args: argparse.Namespace) -> int:
    from emulator.lab import lifecycle as lab
    from emulator.judge import report
    with lab.attached(_lab_of(args.lab)) as running:
        markdown = report.write(running, Path(args.out))
    print(f"wrote {markdown} and {markdown.with_name('timeline.png')}")
    return 0


def cmd_generate(args: argparse.Namespace) -> int:
    from emulator.topology.generate import generate
    text = generate(args.locations, args.name)
    if args.out:
        Path(args.out).write_text(text)
        print(f"wrote {args.out}: {args.locations} location(s)")
    else:
        print(text, end="")
    return 0


def cmd_capture(args: argparse.Namespace) -> int:
    from emulator.observe.capture import capture
    from emulator.core.labdir import LabDir
    lab = _lab_of(args.lab)
    LabDir(lab).read_state()
    out = Path(args.out or f"{lab}-{args.node}-{args.iface}.pcap")
    found = capture(lab, args.node, args.iface, out, args.count, args.seconds, args.filter)
    print(f"wrote {found.path}: {found.packets} packets")
    return 0


def _lab_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("lab", help="lab name or its topology file")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="mapslab", description="A lab of the Microsoft Azure Peering Service Exchange with "
        "Route Server (MAPS) interconnect: validate a peering, build it, check it, break it.")
    sub = top.add_subparsers(dest="command", required=True)
    from emulator.runtime import registry as runtimes
    from emulator.core.hold import ORDER
    kinds = runtimes.kinds()
    p = sub.add_parser("up", help="build a lab from a topology file")
    p.add_argument("topology")
    p.add_argument("--runtime", choices=runtimes.names(), default=runtimes.names()[0],
                   help="; ".join(f"{n}: {kinds[n].summary}" for n in runtimes.names()))
    p.add_argument("--dir", help="containerlab: where to render (default: clab/LAB)")
    p.add_argument("--overrides", help="containerlab: YAML of per-router kind/image/startup-config")
    p.add_argument("--turnup", choices=("auto", "manual"), default="auto",
                   help="auto: register and activate what the topology declares once a "
                        "connection is Active; manual: rehearse with `mapslab asn register` "
                        "and `mapslab prefix activate`")
    p.add_argument("--pause-at", metavar="STEP", help="stop the lab's own automation at this "
                   "step of the turn-up (`mapslab continue` goes on): " + ", ".join(ORDER))
    p.add_argument("--skip-validation", action="store_true",
                   help="build even if the topology breaks rules of the MAPS page (to rehearse "
                        "a broken turn-up)")
    p.set_defaults(func=cmd_up)
    p = sub.add_parser("down", help="remove a lab (idempotent)")
    p.add_argument("lab", help="lab name or its topology file (containerlab: the .clab.yml)")
    p.add_argument("--runtime", choices=runtimes.names(), default=runtimes.names()[0])
    p.set_defaults(func=cmd_down)
    p = sub.add_parser("render", help="write the lab as a containerlab topology and node files")
    p.add_argument("topology")
    p.add_argument("dir")
    p.add_argument("--runtime", choices=runtimes.names(deploying=True),
                   default=runtimes.names(deploying=True)[0])
    p.add_argument("--overrides", help="YAML of per-router kind/image/startup-config")
    p.set_defaults(func=cmd_render)
    p = sub.add_parser("status", help="LAGs, members and BGP sessions of a running lab")
    _lab_arg(p)
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(func=cmd_status)
    p = sub.add_parser("demo", help="up, status, check and down in one go")
    p.add_argument("topology", nargs="?", default="topologies/seattle.yaml")
    p.set_defaults(func=cmd_demo)
    from emulator.judge import scenarios
    for name, func, helptext in (("fail", cmd_fail, "inject a fault"),
                                 ("failover", cmd_failover,
                                  "inject a fault under traffic, measure, recover, judge")):
        p = sub.add_parser(name, help=helptext)
        _lab_arg(p)
        p.add_argument("scenario", choices=scenarios.names())
        if name == "failover":
            p.add_argument("target", nargs="?", default=None,
                           help=scenarios.registry.target_usage() + ". Without a target the "
                           "fault is aimed at the path carrying the probe when it is injected")
        else:
            p.add_argument("target", help=scenarios.registry.target_usage())
        p.add_argument("--member", type=_positive(int, "--member"), default=1,
                       help="the LAG's member (1, 2, ...), for the scenarios that take one")
        if name == "failover":
            p.add_argument("--rate", type=_positive(float, "--rate"), default=100.0,
                           help="probe packets per second")
        p.set_defaults(func=func)
    p = sub.add_parser("recover", help="undo every injected fault and wait until all is back")
    _lab_arg(p)
    p.set_defaults(func=cmd_recover)
    p = sub.add_parser("report", help="write a Markdown report with the timeline as a PNG")
    _lab_arg(p)
    p.add_argument("--out", default="report", help="directory to write into (default: report/)")
    p.set_defaults(func=cmd_report)
    p = sub.add_parser("generate", help="write a topology with N locations (for scale tests)")
    p.add_argument("locations", type=_positive(int, "locations"))
    p.add_argument("--name", default="gen", help="lab name (default: gen)")
    p.add_argument("--out", help="file to write (default: standard output)")
    p.set_defaults(func=cmd_generate)
    p = sub.add_parser("capture", help="write a pcap of one lab interface (bounded)")
    _lab_arg(p)
    p.add_argument("node")
    p.add_argument("iface")
    p.add_argument("--out", help="pcap file (default: LAB-NODE-IFACE.pcap)")
    p.add_argument("--count", type=_positive(int, "--count"), default=1000,
                   help="stop after N packets")
    p.add_argument("--seconds", type=_positive(float, "--seconds"), default=10.0,
                   help="stop after S seconds")
    p.add_argument("--filter", default="", help="a pcap filter, e.g. 'ether proto 0x8809'")
    p.set_defaults(func=cmd_capture)
    for module in _COMMAND_MODULES:
        module.add_parser(sub)
    return top


def run() -> None:
    """The `mapslab` command: main(), its exit handlers, its output flushed, then the exit
    itself, without tearing the interpreter down object by object (a tenth of a second after
    an `up`, for nothing: the process is ending)."""
    code = main()
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:
        pass                    # the reader went away (BrokenPipeError): nothing more to say
    os._exit(code)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except TopologyError as exc:
        print(f"error: {exc.source}: {len(exc.problems)} problem(s)", file=sys.stderr)
        for problem in exc.problems:
            print("  " + problem.render(exc.source), file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader of our output went away; say nothing more (Python docs, SIGPIPE note).
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except ValidationFailed as exc:
        print(exc.text, file=sys.stderr, end="")
        return 2
    except (UsageError, NoSuchLab) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except MapsLabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        # A file or folder named on the command line cannot be read or written.
        where = f" {exc.filename}" if exc.filename else ""
        print(f"error:{where}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    run()
