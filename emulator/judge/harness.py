"""Failover scenarios measured with real traffic, each judged against its stated expectation.

A scenario run: traffic starts, the fault is injected after a lead-in at the path the probe's
echoes come from, the fault holds (every LAG looked at all along), then everything is recovered
and measured again. Session drops are counted from the side that survived the fault. What each
scenario expects is its own (emulator.judge.scenarios), judged from what was seen while the
fault held; every scenario also expects everything back after recovery, with 0 packets lost.
"""
from __future__ import annotations

import json
import time

from emulator.core import wait
from emulator.core.errors import MapsLabError
from emulator.judge import scenarios, traffic
from emulator.judge.checks import Verdict
from emulator.judge import sampler as sampler_module
from emulator.judge.sampler import LagSampler
# The expectations' constants stay readable here, where the failover tests look for them.
from emulator.judge.scenarios.base import (LACP_FAST_TIMEOUT, PROPAGATION_MARGIN,  # noqa: F401
                                           LagSample, ScenarioResult, TargetKind)
from emulator.judge.scenarios.links import member_of
from emulator.lab import automation as lab_automation
from emulator.observe import observers as observe
from emulator.observe.timeline import Timeline
from emulator.lab.lifecycle import Lab


def run(lab: Lab, scenario: str, target: str | None = None, member: int = 1, rate: float = 100.0,
        lead_in: float = 1.0, hold: float | None = None) -> ScenarioResult:
    """Inject one fault under traffic, measure, recover, measure again.

    Without a target the fault is aimed, at the moment of injection, at the path the probe's
    echoes come from (Scenario.aim); with one, the result says whether it was on that path.
    """
    chosen = scenarios.get(scenario)
    # Refused before any traffic is sent; an aimed fault is checked on the first link's edge.
    edges = [lag.b_node for lag in lab.plan.lags]
    if target is not None or edges:
        scenarios.check(lab, scenario, target if target is not None
                        else chosen.aim(lab.plan, edges[0]), member)
    hold_time = lab.plan.timers.hold
    hold = hold if hold is not None else chosen.hold(lab.plan)
    count = int((lead_in + hold) * rate)
    established = _established(lab)
    probe = traffic.start(lab, count=count, rate=rate)
    sampler = LagSampler(lab)
    try:
        # The lead-in counts from the first echo: the sender starts a Python of its own.
        wait.until("probe_echo", probe.carrying, lambda edge: "" if edge else
                   "no echo from any Microsoft edge yet: no path carries the probe")
        time.sleep(lead_in)   # the probe's own pacing runs meanwhile; this only places the fault
        carrying = probe.carrying()
        aimed = target is None
        if target is None:
            target = chosen.aim(lab.plan, carrying)
        on_path = chosen.carries(lab.plan, target, carrying) if carrying else None
        fault = scenarios.inject(lab, scenario, target, member)
    except BaseException:
        _stop(probe, sampler)
        raise
    try:
        try:
            result = probe.result()
        finally:
            looks = sampler.stop()         # a look that failed raises here
        lag = next((l for l in lab.plan.lags if l.name == target), None)
        faulted = (member_of(lag, member)
                   if lag and chosen.target_kind is TargetKind.MEMBER else None)
        samples = sampler_module.samples(looks, lag, faulted) if lag else ()
        seen_during = chosen.during(lab, fault)
        drops = dropped(lab, established, fault.injected_at)
    except BaseException:
        scenarios.recover(lab)             # never leave the fault behind
        raise
    started = time.time()
    scenarios.recover(lab)
    settle(lab)
    recovery = time.time() - started
    after = traffic.measure(lab, count=int(2 * rate), rate=rate)
    outcome = ScenarioResult(scenario, target, member, result, after, len(drops),
                             all(s.members_up for s in samples if s.at >= fault.injected_at),
                             removed_after(samples, fault.injected_at), recovery, hold_time,
                             fault.injected_at, seen_during, carrying, on_path, samples, aimed)
    record(lab, outcome, drops)
    return outcome


def _stop(probe: traffic.RunningProbe, sampler: LagSampler) -> None:
    """Stop what runs in the background when the fault could not be injected."""
    try:
        sampler.stop()
    except MapsLabError:
        pass           # the error being raised is the one to report
    try:
        probe.result()
    except MapsLabError:
        pass           # the error being raised is the one to report


def removed_after(samples: tuple[LagSample, ...], injected_at: float) -> float | None:
    """Seconds from the fault to the first look with the faulted member out of the bundle."""
    return next((s.at - injected_at for s in samples
                 if s.at >= injected_at and s.member_up is False), None)


def _established(lab: Lab) -> set[str]:
    """The interconnect sessions Established at the peer routers, by session name."""
    return {s.session for s in observe.all_sessions(lab.plan, lab.node_dir, lab.host)
            if s.interconnect and s.established}


def dropped(lab: Lab, established: set[str], since: float) -> list[str]:
    """The interconnect sessions that went down since the fault, counted from the side that
    survived it: the edge agents' records (an agent killed with its edge records nothing) and
    the peer routers' own view at the end of the fault."""
    by_address = {(s.lag, s.a_address): s.name for s in lab.plan.sessions if s.lag}
    names = {by_address.get((e.get("lag"), e.get("peer")), f"{e.get('lag')} {e.get('peer')}")
             for e in Timeline.read(lab.dir).session_drops(since)}
    names |= established - _established(lab)
    return sorted(names)


def record(lab: Lab, result: ScenarioResult, drops: list[str] = ()) -> None:
    """Keep the figures with the lab, for `mapslab report`."""
    verdict = judge(result)
    entry = {"scenario": result.scenario, "target": result.target, "member": result.member,
             "injected_at": result.injected_at, "sent": result.traffic.sent,
             "lost": result.traffic.lost, "longest_gap_ms": result.traffic.longest_gap_ms,
             "first_lost_at": result.traffic.first_lost_at,
             "last_lost_at": result.traffic.last_lost_at,
             "responders": result.traffic.responders, "session_drops": result.session_drops,
             "lag_stayed_up": result.lag_stayed_up, "lag_looked_at": bool(result.lag_samples),
             "member_removed_after": result.member_removed_after,
             "recovery_seconds": result.recovery_seconds,
             "lost_after_recovery": result.after_recovery.lost, "passed": verdict.passed,
             "carrying": result.carrying, "on_path": result.on_path, "aimed": result.aimed,
             "dropped_sessions": list(drops),
             "fewest_members_up": min((s.members_up for s in result.samples_during()),
                                      default=None),
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
    lab_automation.wait_prefixes(lab)


def judge(r: ScenarioResult) -> Verdict:
    """The scenario's own expectation, then everything back after recovery."""
    t = r.traffic
    during = r.samples_during()
    members = (f", members up {min(s.members_up for s in during)}-"
               f"{max(s.members_up for s in during)} of {during[0].members} in {len(during)} "
               f"looks" if during else "")
    figures = (f"sent {t.sent}, lost {t.lost}, longest gap {t.longest_gap_ms:.0f} ms, "
               f"session drops {r.session_drops}{members}, "
               f"after recovery lost {r.after_recovery.lost}/{r.after_recovery.sent}")
    problems = list(dict.fromkeys(scenarios.get(r.scenario).expect(r)))
    if r.after_recovery.lost:
        problems.append(f"{r.after_recovery.lost} packets lost after recovery, expected 0")
    removed = (f", member out after {r.member_removed_after:.2f} s"
               if r.member_removed_after is not None else "")
    return Verdict(f"failover {r.scenario} {r.target}", not problems,
                   figures + removed, tuple(problems) + (
                       f"responders during the fault: "
                       f"{', '.join(f'{k} {n}' for k, n in sorted(t.responders.items())) or 'none'}"
                       f" (at the fault: "
                       f"{r.carrying or 'none'})",
                       f"recovered in {r.recovery_seconds:.2f} s"))


def _members(obs: observe.LagObservation) -> str:
    return ", ".join(f"{s.node}:{m.ifname} {m.detail}" for s in (obs.peer_side, obs.edge_side)
                     for m in s.members if not m.up)
