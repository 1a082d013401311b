"""Regression runs (`mapslab test`): a topology, with other router programs or configurations on
its peer routers if asked, brought up, judged by every check and by the chosen failover
scenarios, and always torn down.

  topology + --router overrides → the topology as tested (config paths absolute) → up →
  every check → the observed state → each scenario on a target of its kind, recovered → down →
  a Run, which emulator.judge.junit renders and `evidence` dumps with every observation.

The lab is built on the runtime asked for (emulator.runtime.registry). The embedded one is built
node by node by emulator.lab.lifecycle; one whose kind offers a `deployment` (containerlab)
deploys the whole plan, and the run attaches to it with lifecycle.open_lab, as `mapslab check`
does. The failover harness needs the lab's network namespaces on this host (its traffic probe
sends with `ip netns exec`), so where there are none its scenarios are reported as skipped.
"""
from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from emulator.core.errors import (LabStateError, PlanError, RuntimeUnavailable, UsageError,
                                  ValidationFailed)
from emulator.core.labdir import LabDir
from emulator.judge import baseline, harness, scenarios, traffic
from emulator.judge.checks import CHECKS
from emulator.judge.junit import CHECK, FAILOVER, LAB, Case
from emulator.judge.scenarios import ScenarioResult, TargetKind
from emulator.judge.verdict import Verdict
from emulator.lab import lifecycle
from emulator.lab.lifecycle import Lab
from emulator.nodes import preflight, registry
from emulator.observe import status as lab_status
from emulator.plan.model import Plan, Role
from emulator.plan.resolve import resolve
from emulator.runtime import registry as runtimes
from emulator.runtime.netns import lab_namespaces, namespace
from emulator.topology.intent import Topology
from emulator.topology.loader import load_with_lines
from emulator.topology.validate import render_text, validate

Progress = Callable[[str], None]
EVIDENCE_FORMAT = "mapslab-test-evidence"
EVIDENCE_VERSION = 1


# ---- what to test: router overrides, scenarios, the topology as tested ----

@dataclass(frozen=True)
class RouterOverride:
    """`--router NODE=SOFTWARE[:CONFIG]`: the program (and the user's file) a peer router runs
    instead of the topology's; without CONFIG the program's lab-made configuration."""

    node: str
    software: str
    config: Path | None = None     # absolute

    def __str__(self) -> str:
        return f"{self.node}={self.software}" + (f":{self.config}" if self.config else "")


def parse_routers(texts: list[str], topo: Topology, source: str) -> tuple[RouterOverride, ...]:
    """Every --router option checked against the topology; one UsageError naming each bad one.
    CONFIG is relative to the current directory."""
    problems: list[str] = []
    found: dict[str, RouterOverride] = {}
    routers = [r.name for r in topo.routers]
    programs = registry.softwares(Role.PEER_ROUTER)
    for text in texts:
        node, equals, rest = text.partition("=")
        software, colon, config = rest.partition(":")
        where = f"--router {text!r}"
        if not equals or not node or not software or (colon and not config):
            problems.append(f"{where}: expected NODE=SOFTWARE or NODE=SOFTWARE:CONFIG")
            continue
        if node not in routers:
            problems.append(f"{where}: {node!r} is not a peer router of {source} "
                            f"(peer routers: {', '.join(routers)})")
        if software not in programs:
            problems.append(f"{where}: no peer router runs {software!r} in this lab; choose one "
                            f"of: {', '.join(programs)}")
        path = Path(config).expanduser().resolve() if config else None
        if path is not None and not path.is_file():
            problems.append(f"{where}: configuration file {path} does not exist")
        if node in found:
            problems.append(f"{where}: {node} is given a program twice")
        found[node] = RouterOverride(node, software, path)
    if problems:
        raise UsageError("\n  ".join(["bad --router option(s):", *problems]))
    return tuple(found.values())


def parse_scenarios(text: str | None) -> tuple[str, ...]:
    """`S1,S2` or `all` (every registered scenario, smallest target first); none by default."""
    if not text:
        return ()
    known = scenarios.names()
    if text.strip() == "all":
        return known
    chosen = tuple(dict.fromkeys(s.strip() for s in text.split(",") if s.strip()))
    unknown = [s for s in chosen if s not in known]
    if unknown or not chosen:
        raise UsageError(f"--scenarios {text!r}: unknown scenario(s) {', '.join(unknown) or '(none)'}"
                         f"; choose from {', '.join(known)}, or `all`")
    return chosen


@dataclass(frozen=True)
class LabRuntime:
    """The runtime a run builds its lab on (`--runtime`); for one that deploys a whole plan, where
    it renders (`--dir`, else a folder of the run's own) and its per-node overrides."""

    name: str
    out_dir: Path | None = None
    node_overrides: Mapping[str, Any] | None = None

    @property
    def deploys(self) -> bool:
        return runtimes.get(self.name).deployment is not None


def lab_runtime(name: str | None = None, out_dir: str | None = None,
                overrides_file: str | None = None) -> LabRuntime:
    """The runtime options checked before anything exists; one UsageError naming each bad one."""
    known = runtimes.names()
    name = name or known[0]
    if name not in known:
        raise UsageError(f"--runtime {name!r}: no such runtime; choose one of: {', '.join(known)}")
    deploying = runtimes.names(deploying=True)
    problems = [f"{option} applies only to a runtime that deploys a whole plan "
                f"({', '.join(deploying)}), not to {name}"
                for option, given in (("--dir", out_dir), ("--overrides", overrides_file))
                if given and name not in deploying]
    if problems:
        raise UsageError("\n  ".join(["bad runtime option(s):", *problems]))
    node_overrides = None
    if overrides_file:
        try:
            node_overrides = runtimes.get(name).deployment().overrides(Path(overrides_file))
        except (OSError, yaml.YAMLError, PlanError) as exc:
            raise UsageError(f"--overrides {overrides_file}: {exc}") from None
    return LabRuntime(name, Path(out_dir) if out_dir else None, node_overrides)


def as_tested(source: Path, topo: Topology, overrides: tuple[RouterOverride, ...]) -> str:
    """The topology's YAML with the overrides applied and every `config:` made absolute, so that
    the copy means the same wherever it is written."""
    raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    raw["lab"] = topo.lab              # a file without `lab:` is named after itself
    base = source.resolve().parent
    exchange = raw.get("exchange") or {}
    holders = [*(raw.get("routers") or []), exchange.get("route-server") or {},
               *(exchange.get("members") or [])]
    for holder in holders:
        if holder.get("config"):
            holder["config"] = str((base / holder["config"]).resolve())
    chosen = {o.node: o for o in overrides}
    for router in raw.get("routers") or []:
        override = chosen.get(router.get("name"))
        if override is not None:
            router["software"] = override.software
            router.pop("config", None)   # the topology's file was written for its own program
            if override.config:
                router["config"] = str(override.config)
    header = f"# {source} as tested by `mapslab test`"
    header += "".join(f" --router {o}" for o in overrides) + "\n"
    return header + yaml.safe_dump(raw, sort_keys=False, allow_unicode=True)


@dataclass(frozen=True)
class Target:
    """What a scenario is run against, or why it is not run in this lab."""

    name: str | None
    member: int = 1
    skipped: str | None = None


def target_for(plan: Plan, kind: TargetKind) -> Target:
    """The first LAG, peer router, edge or location of the plan, as the scenario's kind asks."""
    if kind in (TargetKind.MEMBER, TargetKind.LAG):
        return Target(plan.lags[0].name) if plan.lags else Target(None, skipped="no LAG in this lab")
    if kind is TargetKind.PEER_ROUTER:
        routers = plan.nodes_with(Role.PEER_ROUTER)
        return Target(routers[0].name) if routers else Target(None, skipped="no peer router")
    if kind is TargetKind.EDGE:
        edges = [lag.b_node for lag in plan.lags]
        return Target(edges[0]) if edges else Target(None, skipped="no edge router with a link")
    locations = list(dict.fromkeys(n.location for n in plan.nodes_with(Role.PEER_ROUTER)))
    if len(locations) < 2:
        return Target(None, skipped="one location only: there is no other location to move to")
    return Target(locations[0])


# ---- the run ----

@dataclass(frozen=True)
class ScenarioOutcome:
    case: Case
    scenario: str
    target: str | None
    member: int
    result: ScenarioResult | None = None
    recovered: bool = True         # False: the lab could not be brought back after it


@dataclass(frozen=True)
class Run:
    """Everything a regression run judged and observed."""

    lab: str
    source: Path
    topology: str                        # the YAML as tested
    overrides: tuple[RouterOverride, ...]
    started: float
    up: Case
    degraded: tuple[str, ...]
    checks: tuple[Case, ...]
    observed: lab_status.Status | None
    observe_error: str | None
    scenarios: tuple[ScenarioOutcome, ...]
    kept: bool
    left_behind: tuple[str, ...]
    runtime: str = field(default_factory=lambda: runtimes.names()[0])
    rendered: Path | None = None         # a deploying runtime's topology file (containerlab's)

    @property
    def cases(self) -> list[Case]:
        return [self.up, *self.checks, *(s.case for s in self.scenarios)]

    @property
    def passed(self) -> bool:
        return all(c.ok for c in self.cases)


def _failure(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _check(lab: Lab, name: str, check, progress: Progress) -> Case:
    started = time.monotonic()
    try:
        verdict = check(lab)
    except Exception as exc:      # a check that breaks is an error of that check, not of the run
        case = Case(CHECK, name, time.monotonic() - started, error=_failure(exc))
        progress(f"ERROR {name:<20} {case.error}")
        return case
    progress(f"{'PASS' if verdict.passed else 'FAIL'}  {name:<20} {verdict.summary}")
    return Case(CHECK, name, time.monotonic() - started, verdict)


def _recover(lab: Lab) -> str | None:
    """Undo every fault and wait until all is back; what went wrong, or None."""
    try:
        scenarios.recover(lab)
        harness.settle(lab)
    except Exception as exc:
        return _failure(exc)
    return None


def _scenario(lab: Lab, name: str, progress: Progress, not_run: str | None) -> ScenarioOutcome:
    chosen = scenarios.get(name)
    target = target_for(lab.plan, chosen.target_kind)
    # The fault is aimed at the path carrying the probe when it is injected (the harness picks
    # the target then); `target` only says whether this lab has one of the kind at all.
    title = f"{name} {baseline.AIMED}"
    if chosen.target_kind is TargetKind.MEMBER:
        title += f" member {target.member}"
    skipped = not_run or target.skipped
    started = time.monotonic()
    if skipped is None:
        try:
            chosen.check(lab, target.name, target.member)
        except RuntimeUnavailable as exc:     # not possible here (e.g. kernel bonds), not broken
            skipped = f"not possible in this lab: {exc}"
    if skipped is not None:
        progress(f"SKIP  {title:<20} {skipped}")
        return ScenarioOutcome(Case(FAILOVER, title, 0.0, skipped=skipped), name, target.name,
                               target.member)
    progress(f"      {title}: injecting under traffic ...")
    try:
        result = harness.run(lab, name, None, target.member)
    except Exception as exc:
        error = _failure(exc)
        problem = _recover(lab)
        if problem:
            error += f"\nrecovery failed too: {problem}"
        progress(f"ERROR {title:<20} {error}")
        return ScenarioOutcome(Case(FAILOVER, title, time.monotonic() - started, error=error),
                               name, target.name, target.member, recovered=problem is None)
    verdict = harness.judge(result)
    progress(f"{'PASS' if verdict.passed else 'FAIL'}  {title:<20} ({result.target}) "
             f"{verdict.summary}")
    return ScenarioOutcome(Case(FAILOVER, title, time.monotonic() - started, verdict), name,
                           result.target, target.member, result)


def _observe(lab: Lab) -> tuple[lab_status.Status | None, str | None]:
    try:
        return lab_status.status(lab), None
    except Exception as exc:
        return None, _failure(exc)


def _judge(lab: Lab, chosen: tuple[str, ...], progress: Progress, blocked: str | None = None) -> tuple:
    """Every check, the observed state, then each scenario (skipped once the lab is broken, or
    all of them when `blocked` says why the harness cannot run in this lab)."""
    degraded = tuple(lab.degraded)
    checks = tuple(_check(lab, name, check, progress) for name, check in CHECKS.items())
    observed, observe_error = _observe(lab)
    outcomes: list[ScenarioOutcome] = []
    for name in chosen:
        not_run = f"not run: the lab is degraded ({degraded[0]})" if degraded else None
        broken = next((o for o in outcomes if not o.recovered), None)
        if broken is not None:
            not_run = f"not run: the lab did not recover after {broken.case.name}"
        outcomes.append(_scenario(lab, name, progress, blocked or not_run))
    return degraded, checks, observed, observe_error, tuple(outcomes)


def harness_blocker(lab: Lab) -> str | None:
    """Why no failover scenario can run in this lab, or None: the harness's traffic probe sends
    from a member's network namespace on this host (`ip netns exec`), with reflectors and faults
    that report through the lab's directory here."""
    try:
        flow = traffic.default_flow(lab.plan)
    except PlanError as exc:
        return f"not possible in this lab: {exc}"
    sender = namespace(lab.plan.lab, flow.source_node)
    if sender in lab_namespaces(lab.plan.lab):
        return None
    return (f"not possible in this lab: the traffic probe and fault injection need the lab's "
            f"network namespaces on this host (the probe sends from {sender}), and this lab's "
            f"nodes are not in any")


def _let_go(lab: Lab, keep: bool, progress: Progress) -> None:
    """Before the lab is left (kept or taken down): a kept lab without the run's faults."""
    if keep and scenarios.active(lab):
        problem = _recover(lab)
        if problem:
            progress(f"could not undo the faults of the kept lab: {problem}")
    lab.close()


def _built(copy: Path, topo: Topology, chosen: tuple[str, ...], keep: bool,
           progress: Progress) -> tuple:
    """On the runtime that lab.lifecycle builds node by node (the embedded one)."""
    t0 = time.monotonic()
    lab = lifecycle.up(copy, progress=progress)
    try:
        up_seconds = time.monotonic() - t0
        judged = _judge(lab, chosen, progress)
    finally:
        _let_go(lab, keep, progress)
        if not keep:
            lifecycle.down(topo.lab)
    left = () if keep else tuple(lifecycle.leftovers(topo.lab))
    return up_seconds, judged, left, None


def _deployable_plan(copy: Path, progress: Progress) -> Plan:
    """What lifecycle.up checks before anything exists, for a runtime that deploys the plan: the
    router programs and the users' own files, the page's rules, a plan that fits a lab."""
    topo, lines = load_with_lines(copy)
    preflight.check(topo, lines, copy)
    report = validate(topo, lines)
    if not report.ok:
        raise ValidationFailed(str(copy), render_text(report, str(copy)), len(report.errors))
    if report.warnings:
        progress(f"{len(report.warnings)} warning(s) from `mapslab validate`")
    plan = resolve(topo, copy.parent)
    if LabDir(plan.lab).exists():
        raise LabStateError(f"a lab named {plan.lab!r} is already up: a regression run builds "
                            f"its own (run `mapslab down {plan.lab}` first)")
    return plan


def _deployed(on: LabRuntime, copy: Path, folder: Path, chosen: tuple[str, ...], keep: bool,
              progress: Progress) -> tuple:
    """On a runtime that deploys the whole plan (its kind's `deployment`): deploy, attach as
    `mapslab check` does, judge, destroy through the deployment (unless keep)."""
    plan = _deployable_plan(copy, progress)
    deployment = runtimes.get(on.name).deployment()
    reason = deployment.blocker()
    if reason:
        raise RuntimeUnavailable(f"{reason}; `mapslab test --runtime {on.name}` deploys the lab")
    # A kept lab's containers mount its rendered files: not in the run's folder (which goes),
    # but where `mapslab up` renders.
    out_dir = (on.out_dir or (Path("clab") / plan.lab if keep else folder / on.name)).resolve()
    t0 = time.monotonic()
    rendered = deployment.up(plan, out_dir, on.node_overrides, progress)
    up_seconds = time.monotonic() - t0
    left: list[str] = []
    try:
        lab = lifecycle.open_lab(plan.lab)
        try:
            judged = _judge(lab, chosen, progress, harness_blocker(lab))
        finally:
            _let_go(lab, keep, progress)
    finally:
        if not keep:
            try:
                deployment.down(rendered.topology_file)
                progress(f"destroyed the {on.name} lab of {rendered.topology_file}")
            except Exception as exc:       # reported as left behind, not lost in a traceback
                left.append(f"the {on.name} lab of {rendered.topology_file} ({_failure(exc)})")
    if not keep:
        left += lifecycle.leftovers(plan.lab)
    return up_seconds, judged, tuple(left), rendered.topology_file


def run(source: Path, topo: Topology, overrides: tuple[RouterOverride, ...],
        chosen: tuple[str, ...], keep: bool = False, progress: Progress = lambda _: None,
        on: LabRuntime | None = None) -> Run:
    """Up, every check, each chosen scenario, down: always, also on an error or Ctrl-C, unless
    keep (then the faults are undone and the lab stays up). A topology the lab refuses raises
    before anything exists."""
    on = on or lab_runtime()
    text = as_tested(source, topo, overrides)
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="mapslab-test-", ignore_cleanup_errors=True) as folder:
        copy = Path(folder) / f"{topo.lab}.yaml"
        copy.write_text(text, encoding="utf-8")
        if on.deploys:
            up_seconds, judged, left, rendered = _deployed(on, copy, Path(folder), chosen, keep,
                                                           progress)
        else:
            up_seconds, judged, left, rendered = _built(copy, topo, chosen, keep, progress)
    degraded, checks, observed, observe_error, outcomes = judged
    up = Case(LAB, "up", up_seconds, Verdict(
        "up", not degraded, f"the lab is degraded: {len(degraded)} problem(s)" if degraded
        else "the lab converged", degraded))
    return Run(topo.lab, source, text, overrides, started, up, degraded, checks, observed,
               observe_error, outcomes, keep, left, on.name, rendered)


# ---- the evidence file ----

def _case_json(case: Case) -> dict:
    v = case.verdict
    return {"name": case.name, "classname": case.classname, "outcome": case.outcome,
            "seconds": round(case.seconds, 3), "check": v.check if v else None,
            "passed": v.passed if v else False, "summary": v.summary if v else None,
            "evidence": list(v.evidence) if v else [], "error": case.error,
            "skipped": case.skipped}


def _result_json(r: ScenarioResult) -> dict:
    return {**asdict(r), "convergence_ms": r.convergence_ms,
            "traffic": {**asdict(r.traffic), "lost": r.traffic.lost},
            "after_recovery": {**asdict(r.after_recovery), "lost": r.after_recovery.lost}}


def evidence(r: Run) -> dict:
    """Every observation behind every verdict, as JSON."""
    return {
        "format": EVIDENCE_FORMAT, "version": EVIDENCE_VERSION, "lab": r.lab,
        "started_at": r.started, "passed": r.passed,
        "topology": {"source": str(r.source), "as_tested": r.topology},
        "overrides": [{"node": o.node, "software": o.software,
                       "config": str(o.config) if o.config else None} for o in r.overrides],
        "degraded": list(r.degraded),
        "up": _case_json(r.up),
        "checks": [_case_json(c) for c in r.checks],
        "observed": lab_status.status_json(r.observed) if r.observed else None,
        "observe_error": r.observe_error,
        "scenarios": [{"scenario": s.scenario, "target": s.target, "member": s.member,
                       **_case_json(s.case),
                       "result": _result_json(s.result) if s.result else None}
                      for s in r.scenarios],
        "runtime": r.runtime, "rendered": str(r.rendered) if r.rendered else None,
        "kept": r.kept, "left_behind": list(r.left_behind),
    }


def junit_properties(r: Run) -> dict[str, str]:
    properties = {"lab": r.lab, "topology": str(r.source), "runtime": r.runtime}
    properties.update({f"router {o.node}": str(o).partition("=")[2] for o in r.overrides})
    properties.update({f"degraded {i + 1}": d for i, d in enumerate(r.degraded)})
    return properties
