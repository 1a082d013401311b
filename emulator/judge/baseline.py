"""Baselines: a running lab's state and verdicts recorded (`mapslab record`), and a later lab
compared with them (`mapslab check --against`), so that two router programs, versions or
configurations can be judged on the same topology.

A baseline holds the BGP sessions (name, node, state), the Microsoft prefix count per peer
router and family, the edge agents' verdicts (per edge link, prefix → outcome and rule), the
check verdicts and the failover figures recorded so far. Compared, every session, count, edge
verdict or check that is not the same is a difference, and so is everything found on one side
only; a failover figure is a difference when it got worse by more than TOLERANCE.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pydantic
from pydantic import BaseModel, ConfigDict

from emulator.core.errors import UsageError
from emulator.judge import harness
from emulator.judge.verdict import Verdict
from emulator.lab.lifecycle import Lab
from emulator.observe import observers as observe
from emulator.plan.model import Role

FORMAT = "mapslab-baseline"
VERSION = 1


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SessionRecord(_Model):
    session: str
    node: str
    state: str


class EdgeVerdict(_Model):
    outcome: str
    rule: str


class CheckRecord(_Model):
    passed: bool
    summary: str


AIMED = "on the traffic path"


class FailoverRecord(_Model):
    """One failover run's figures, as emulator.judge.harness records them."""

    scenario: str
    target: str
    member: int
    passed: bool
    lost: int
    longest_gap_ms: float
    session_drops: int
    lag_stayed_up: bool
    member_removed_after: float | None
    recovery_seconds: float
    lost_after_recovery: int

    aimed: bool = False          # the harness chose the target on the traffic's path

    @property
    def key(self) -> str:
        """One failover's identity across runs: an aimed fault's target depends on which path
        the traffic took that day, so it is named by where it was aimed, not by the target."""
        where = AIMED if self.aimed else self.target
        return f"{self.scenario} {where} member {self.member}"


class Baseline(_Model):
    format: Literal["mapslab-baseline"] = FORMAT
    version: Literal[1] = VERSION
    lab: str
    recorded_at: float
    routers: dict[str, str]                          # peer router → program (and own file)
    sessions: list[SessionRecord]
    prefix_counts: dict[str, dict[str, int]]         # peer router → family → Microsoft prefixes
    edges: dict[str, dict[str, EdgeVerdict]]         # edge link (LAG) → prefix → verdict
    checks: dict[str, CheckRecord]
    failovers: list[FailoverRecord]


# ---- record ----

def _failovers(entries: list[dict]) -> list[FailoverRecord]:
    """The latest run per scenario, target and member."""
    latest: dict[str, FailoverRecord] = {}
    fields = FailoverRecord.model_fields
    for entry in entries:
        record = FailoverRecord(**{k: v for k, v in entry.items() if k in fields})
        latest[record.key] = record
    return list(latest.values())


def record(lab: Lab, verdicts: list[Verdict]) -> Baseline:
    """The lab as it is now, with the verdicts of the checks just run."""
    plan = lab.plan
    routers = plan.nodes_with(Role.PEER_ROUTER)
    edges: dict[str, dict[str, EdgeVerdict]] = {}
    for edge in observe.edge_routes(plan, lab.node_dir, lab.host):
        found = edges.setdefault(edge.lag, {})
        for route in edge.routes():       # by peer: a prefix heard twice keeps the first
            found.setdefault(route.prefix, EdgeVerdict(outcome=route.outcome, rule=route.rule))
    return Baseline(
        lab=plan.lab, recorded_at=time.time(),
        routers={n.name: n.software + (f" {n.config}" if n.config else "") for n in routers},
        sessions=[SessionRecord(session=s.session, node=s.node, state=s.state)
                  for s in observe.all_sessions(plan, lab.node_dir, lab.host)],
        prefix_counts={n.name: observe.microsoft_prefix_count(plan, n.name, lab.node_dir(n.name),
                                                              lab.host)
                       for n in routers},
        edges=edges,
        checks={v.check: CheckRecord(passed=v.passed, summary=v.summary) for v in verdicts},
        failovers=_failovers(harness.recorded(lab.dir)))


def write(baseline: Baseline, path: Path) -> None:
    path.write_text(baseline.model_dump_json(indent=2) + "\n", encoding="utf-8")


def read(path: Path) -> Baseline:
    """A baseline file read back; a clear UsageError for anything that is not one."""
    text = path.read_text(encoding="utf-8")
    not_one = f"{path} is not a mapslab baseline"
    try:
        raw = json.loads(text)
    except ValueError as exc:
        raise UsageError(f"{not_one}: not JSON ({exc})") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise UsageError(f"{not_one} (no \"format\": \"{FORMAT}\"); write one with "
                         f"`mapslab record LAB --out FILE`")
    if raw.get("version") != VERSION:
        raise UsageError(f"{path}: baseline version {raw.get('version')!r}; this mapslab reads "
                         f"version {VERSION} (record the baseline again)")
    try:
        return Baseline.model_validate(raw)
    except pydantic.ValidationError as exc:
        problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise UsageError("\n  ".join([f"{not_one}: {len(problems)} problem(s)", *problems[:20]])
                         ) from None


# ---- compare ----

@dataclass(frozen=True)
class Figure:
    """A failover figure and how much worse it may get before that is a difference: more than
    both `relative` of the baseline's value and `slack` (measurement noise: the probe's 10 ms
    interval, a hold timer that fires up to one keepalive later)."""

    name: str
    slack: float
    relative: float = 0.5


# Figures that must not grow at all have no slack and no relative allowance.
TOLERANCE = (Figure("lost", 50), Figure("longest_gap_ms", 500.0),
             Figure("recovery_seconds", 3.0), Figure("member_removed_after", 1.0),
             Figure("session_drops", 0, 0.0), Figure("lost_after_recovery", 0, 0.0))


@dataclass(frozen=True)
class Difference:
    kind: str          # session, prefix-count, edge-verdict, check, failover
    subject: str
    before: str
    now: str

    def render(self) -> str:
        return f"{self.kind:<13} {self.subject}: {self.before} → {self.now}"


MISSING = "absent"


def _compare(kind: str, before: dict, now: dict, show=str) -> list[Difference]:
    """A difference for every key whose value is not the same, or that one side lacks."""
    found = []
    for key in list(before) + [k for k in now if k not in before]:
        old, new = before.get(key), now.get(key)
        if old != new:
            found.append(Difference(kind, key, MISSING if old is None else show(old),
                                    MISSING if new is None else show(new)))
    return found


def _worse(figure: Figure, old: float | None, new: float | None) -> bool:
    if old is None:          # e.g. a member that was never seen out of the bundle before
        return False
    if new is None:
        return True
    return new - old > max(figure.relative * old, figure.slack)


def _failover_differences(before: list[FailoverRecord], now: list[FailoverRecord],
                          tolerance: tuple[Figure, ...]) -> list[Difference]:
    old = {f.key: f for f in before}
    new = {f.key: f for f in now}
    found = [Difference("failover", key, "measured", f"{MISSING} (not run on this lab)")
             for key in old if key not in new]
    found += [Difference("failover", key, f"{MISSING} (not in the baseline)", "measured")
              for key in new if key not in old]
    for key in (k for k in old if k in new):
        a, b = old[key], new[key]
        if a.passed != b.passed:
            found.append(Difference("failover", key, _passed(a.passed), _passed(b.passed)))
        if a.lag_stayed_up and not b.lag_stayed_up:
            found.append(Difference("failover", f"{key} LAG stayed up", "yes", "no"))
        for figure in tolerance:
            x, y = getattr(a, figure.name), getattr(b, figure.name)
            if _worse(figure, x, y):
                worse = "never" if y is None else f"worse by {y - x:g}"
                allowed = max(figure.relative * x, figure.slack)
                found.append(Difference("failover", f"{key} {figure.name}", _figure(x),
                                        f"{_figure(y)} ({worse}, tolerance {allowed:g})"))
    return found


def _check_now(now: Baseline, d: Difference) -> str:
    """A changed check, with what it says now."""
    found = now.checks.get(d.subject)
    return d.now if found is None else f"{d.now} ({found.summary})"


def _passed(passed: bool) -> str:
    return "pass" if passed else "FAIL"


def _figure(value: float | None) -> str:
    return "never" if value is None else f"{value:g}"


def compare(before: Baseline, now: Baseline,
            tolerance: tuple[Figure, ...] = TOLERANCE) -> list[Difference]:
    """Every difference between a baseline and the lab now; [] when they agree."""
    found = _compare("session", {f"{s.node} {s.session}": s.state for s in before.sessions},
                     {f"{s.node} {s.session}": s.state for s in now.sessions})
    found += _compare("prefix-count",
                      {f"{n} {fam}": c for n, counts in before.prefix_counts.items()
                       for fam, c in counts.items()},
                      {f"{n} {fam}": c for n, counts in now.prefix_counts.items()
                       for fam, c in counts.items()})
    found += _compare("edge-verdict",
                      {f"{lag} {p}": v for lag, vs in before.edges.items() for p, v in vs.items()},
                      {f"{lag} {p}": v for lag, vs in now.edges.items() for p, v in vs.items()},
                      show=lambda v: f"{v.outcome} ({v.rule})")
    found += [Difference("check", d.subject, d.before, _check_now(now, d))
              for d in _compare("check", {n: c.passed for n, c in before.checks.items()},
                                {n: c.passed for n, c in now.checks.items()}, show=_passed)]
    found += _failover_differences(before.failovers, now.failovers, tolerance)
    return found


def render(before: Baseline, now: Baseline, differences: list[Difference], source: str) -> str:
    """What a reader of `mapslab check --against` sees after the checks."""
    recorded = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(before.recorded_at))
    out = [f"against {source} (lab {before.lab!r}, recorded {recorded})"]
    for router in sorted(set(before.routers) | set(now.routers)):
        old, new = before.routers.get(router, MISSING), now.routers.get(router, MISSING)
        out.append(f"  {router}: {old}" + ("" if old == new else f" in the baseline, {new} now"))
    if not differences:
        out.append("no difference: sessions, prefix counts, edge verdicts, checks and "
                   "failover figures as in the baseline")
        return "\n".join(out)
    out.append(f"{len(differences)} difference(s):")
    out += [f"  {d.render()}" for d in differences]
    return "\n".join(out)
