"""Failover scenarios measured with real traffic, each judged against its stated expectation.

A scenario run: traffic starts, the fault is injected after a lead-in, the fault holds, then
everything is recovered and measured again. What each scenario expects is its own
(emulator.judge.scenarios); every scenario also expects everything back after recovery, with 0
packets lost.
"""
from __future__ import annotations

import json
import time

from emulator.core import wait
from emulator.core.errors import WaitTimeout
from emulator.judge import scenarios, traffic
from emulator.judge.checks import Verdict
# The expectations' constants stay readable here, where the failover tests look for them.
from emulator.judge.scenarios.base import (LACP_FAST_TIMEOUT, PROPAGATION_MARGIN,  # noqa: F401
                                           ScenarioResult, TargetKind)
from emulator.lab import lifecycle as lab_module
from emulator.observe import observers as observe
from emulator.observe.timeline import Timeline
from emulator.lab.lifecycle import Lab


def run(lab: Lab, scenario: str, target: str, member: int = 1, rate: float = 100.0,
        lead_in: float = 1.0, hold: float | None = None) -> ScenarioResult:
    """Inject one fault under traffic, measure, recover, measure again."""
    chosen = scenarios.get(scenario)
    hold_time = lab.plan.timers.hold
    hold = hold if hold is not None else chosen.hold(lab.plan)
    count = int((lead_in + hold) * rate)
    lag = next((l for l in lab.plan.lags if l.name == target), None)
    probe = traffic.start(lab, count=count, rate=rate)
    time.sleep(lead_in)      # the probe's own pacing runs meanwhile; this only places the fault
    fault = scenarios.inject(lab, scenario, target, member)
    removed_after = None
    if lag is not None and chosen.target_kind is TargetKind.MEMBER:
        ifname = lag.members[member - 1].a_ifname

        def member_state():
            return next(m for m in lab.driver.observe(lag.a_node, lag).members if m.ifname == ifname)
        try:
            wait.until("lacp_setup", member_state, lambda m: "" if not m.up else
                       f"{ifname} still collecting/distributing", seconds=hold)
            removed_after = time.time() - fault.injected_at
        except WaitTimeout:
            removed_after = None
    result = probe.result()
    seen_during = chosen.during(lab, fault)
    lag_up = all(o.peer_side.up for o in observe.lags(lab.plan, lab.driver)
                 if lag is None or o.lag == lag.name)
    drops = Timeline.read(lab.dir).session_drops(fault.injected_at)
    started = time.time()
    scenarios.recover(lab)
    settle(lab)
    recovery = time.time() - started
    after = traffic.measure(lab, count=int(2 * rate), rate=rate)
    outcome = ScenarioResult(scenario, target, member, result, after, len(drops), lag_up,
                             removed_after, recovery, hold_time, fault.injected_at,
                             seen_during)
    record(lab, outcome)
    return outcome


def record(lab: Lab, result: ScenarioResult) -> None:
    """Keep the figures with the lab, for `mapslab report`."""
    verdict = judge(result)
    entry = {"scenario": result.scenario, "target": result.target, "member": result.member,
             "injected_at": result.injected_at, "sent": result.traffic.sent,
             "lost": result.traffic.lost, "longest_gap_ms": result.traffic.longest_gap_ms,
             "first_lost_at": result.traffic.first_lost_at,
             "last_lost_at": result.traffic.last_lost_at,
             "responders": result.traffic.responders, "session_drops": result.session_drops,
             "lag_stayed_up": result.lag_stayed_up,
             "member_removed_after": result.member_removed_after,
             "recovery_seconds": result.recovery_seconds,
             "lost_after_recovery": result.after_recovery.lost, "passed": verdict.passed,
             "problems": [e for e in verdict.evidence if not e.startswith(("responders", "recovered"))]}
    with open(lab.dir.path / "failovers.jsonl", "a") as out:
        out.write(json.dumps(entry) + "\n")


def recorded(labdir) -> list[dict]:
    try:
        lines = (labdir.path / "failovers.jsonl").read_text().splitlines()
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in lines if line.strip()]


def settle(lab: Lab) -> None:
    """Wait until every LAG has all members, every session is Established, every prefix is back."""
    plan = lab.plan
    wait.until("lacp_recovery", lambda: observe.lags(plan, lab.driver),
               lambda found: "\n".join(f"{o.lag}: peer side {o.peer_side.members_up}/{len(o.peer_side.members)}, edge side {o.edge_side.members_up}/{len(o.edge_side.members)} ({_members(o)})"
                                       for o in found
                                       if o.peer_side.members_up != len(o.peer_side.members)
                                       or o.edge_side.members_up != len(o.edge_side.members)))
    wait.until("ebgp_session", lambda: observe.all_sessions(plan, lab.node_dir),
               lambda states: "\n".join(f"{s.node} {s.session}: {s.state}"
                                        for s in states if not s.established))
    lab_module.wait_prefixes(lab)


def judge(r: ScenarioResult) -> Verdict:
    """The scenario's own expectation, then everything back after recovery."""
    t = r.traffic
    figures = (f"sent {t.sent}, lost {t.lost}, longest gap {t.longest_gap_ms:.0f} ms, "
               f"session drops {r.session_drops}, LAG up {r.lag_stayed_up}, "
               f"after recovery lost {r.after_recovery.lost}/{r.after_recovery.sent}")
    problems = scenarios.get(r.scenario).expect(r)
    if r.after_recovery.lost:
        problems.append(f"{r.after_recovery.lost} packets lost after recovery, expected 0")
    removed = (f", member out after {r.member_removed_after:.2f} s"
               if r.member_removed_after is not None else "")
    return Verdict(f"failover {r.scenario} {r.target}", not problems,
                   figures + removed, tuple(problems) + (
                       f"responders during the fault: {t.responders}",
                       f"recovered in {r.recovery_seconds:.2f} s"))


def _members(obs: observe.LagObservation) -> str:
    return ", ".join(f"{s.node}:{m.ifname} {m.detail}" for s in (obs.peer_side, obs.edge_side)
                     for m in s.members if not m.up)
