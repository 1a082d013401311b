"""Failover scenarios measured with real traffic, each judged against its stated expectation.

A scenario run: traffic starts, the fault is injected after a lead-in, the fault holds, then
everything is recovered and measured again. Expectations (timers are the lab's, `bgp:`):
  member-down     0 session drops, the LAG stays up
  member-silent   the member leaves the bundle within the LACP fast timeout (3 s,
                  IEEE 802.1AX-2014 6.4.4: 3 x fast periodic time), 0 session drops
  lacp-mismatch   the member never aggregates, 0 session drops
  lag-down, peer-router-down, edge-down, location-down
                  traffic moves to the other mesh link within the BGP hold time
                  (+ PROPAGATION_MARGIN for the withdrawals to propagate)
  recovery        everything returns, 0 packets lost after recovery
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass

from emulator.judge import faults
from emulator.lab import lifecycle as lab_module
from emulator.observe import observers as observe
from emulator.judge import traffic
from emulator.core import wait
from emulator.judge.checks import Verdict
from emulator.judge.probe import ProbeResult
from emulator.observe.timeline import Timeline

LACP_FAST_TIMEOUT = 3.0      # IEEE 802.1AX-2014 6.4.4: Short_Timeout_Time
# Traffic moves once a hold timer expires (RFC 4271 6.5) and the withdrawals propagate; the
# propagation (route server, best path, FIB) gets this much on top of the hold time.
PROPAGATION_MARGIN = 1.5
MEMBER_SCENARIOS = ("member-down", "member-silent", "lacp-mismatch")


@dataclass(frozen=True)
class ScenarioResult:
    scenario: str
    target: str
    member: int
    traffic: ProbeResult
    after_recovery: ProbeResult
    session_drops: int
    lag_stayed_up: bool
    member_removed_after: float | None     # seconds from the fault to the member out of the bundle
    recovery_seconds: float
    hold_time: int
    injected_at: float

    @property
    def convergence_ms(self) -> float:
        return self.traffic.longest_gap_ms


def _member_out(lab, lag, member: int) -> observe.LagObservation:
    return observe.lags(lab.plan, lab.driver)[lab.plan.lags.index(lag)]


def run(lab, scenario: str, target: str, member: int = 1, rate: float = 100.0,
        lead_in: float = 1.0, hold: float | None = None) -> ScenarioResult:
    """Inject one fault under traffic, measure, recover, measure again."""
    hold_time = lab.plan.timers.hold
    hold = hold if hold is not None else (5.0 if scenario in MEMBER_SCENARIOS else hold_time + 4.0)
    count = int((lead_in + hold) * rate)
    lag = next((l for l in lab.plan.lags if l.name == target), None)
    probe = traffic.start(lab, count=count, rate=rate)
    time.sleep(lead_in)      # the probe's own pacing runs meanwhile; this only places the fault
    fault = faults.inject(lab, scenario, target, member)
    removed_after = None
    if lag is not None and scenario in MEMBER_SCENARIOS:
        ifname = lag.members[member - 1].a_ifname

        def member_state():
            return next(m for m in lab.driver.observe(lag.a_node, lag).members if m.ifname == ifname)
        try:
            wait.until("lacp_setup", member_state, lambda m: "" if not m.up else
                       f"{ifname} still collecting/distributing", seconds=hold)
            removed_after = time.time() - fault.injected_at
        except Exception:
            removed_after = None
    result = probe.result()
    lag_up = all(o.peer_side.up for o in observe.lags(lab.plan, lab.driver)
                 if lag is None or o.lag == lag.name)
    drops = [e for e in Timeline.read(lab.dir).of("bgp-state", state="down")
             if e.time >= fault.injected_at]
    started = time.time()
    faults.recover(lab)
    settle(lab)
    recovery = time.time() - started
    after = traffic.measure(lab, count=int(2 * rate), rate=rate)
    outcome = ScenarioResult(scenario, target, member, result, after, len(drops), lag_up,
                             removed_after, recovery, hold_time, fault.injected_at)
    record(lab, outcome)
    return outcome


def record(lab, result: ScenarioResult) -> None:
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


def settle(lab) -> None:
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
    t = r.traffic
    figures = (f"sent {t.sent}, lost {t.lost}, longest gap {t.longest_gap_ms:.0f} ms, "
               f"session drops {r.session_drops}, LAG up {r.lag_stayed_up}, "
               f"after recovery lost {r.after_recovery.lost}/{r.after_recovery.sent}")
    problems = []
    if r.scenario in ("member-down", "lacp-mismatch"):
        if r.session_drops:
            problems.append(f"{r.session_drops} BGP session drop(s), expected 0")
        if not r.lag_stayed_up:
            problems.append("the LAG went down, expected it to stay up on the other member")
    elif r.scenario == "member-silent":
        if r.session_drops:
            problems.append(f"{r.session_drops} BGP session drop(s), expected 0")
        if r.member_removed_after is None:
            problems.append("the silent member was never removed from the bundle")
        elif r.member_removed_after > LACP_FAST_TIMEOUT + 1.0:
            problems.append(f"member removed after {r.member_removed_after:.1f} s, expected within "
                            f"the LACP fast timeout ({LACP_FAST_TIMEOUT:.0f} s, +1 s of polling)")
    else:
        if t.longest_gap_ms > (r.hold_time + PROPAGATION_MARGIN) * 1000:
            problems.append(f"traffic took {t.longest_gap_ms:.0f} ms to move, more than the "
                            f"hold time {r.hold_time} s + {PROPAGATION_MARGIN} s to propagate")
        if t.received == 0:
            problems.append("no traffic at all got through")
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
