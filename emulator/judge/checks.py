"""Checks: each judges observations of a running lab and returns a Verdict with its evidence.

  lag-before-bgp      every interconnect session reached Established after its LAG was up
  mesh-formed         both links of every connection, IPv4 and IPv6, Established
  microsoft-prefixes  every peer router holds the whole Microsoft prefix set
  peer-prefixes       every edge agent received every prefix the exchange side announces
  no-readvertisement  the internet hears Microsoft's prefixes, never the peer's
  peer-devices        no stateful firewall, no rate limiting on the peer routers
  and the checks of the peer's own routers (emulator.judge.router_checks): max-prefix,
  both-families, no-leak-to-microsoft
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from emulator.observe import observers as observe
from emulator.observe import tcp_md5
from emulator.plan.model import Role
from emulator.judge.router_checks import ROUTER_CHECKS
from emulator.judge.verdict import Verdict
from emulator.observe.timeline import Timeline
from emulator.lab.lifecycle import Lab


def lag_before_bgp(lab: Lab) -> Verdict:
    """Every interconnect session reached Established while its LAG was up, never before.

    The LAG's state at each Established is the latest record before it: the edge automation's
    `lag-up` (it sees the LAG up, then configures BGP, at turn-up and when a recovery brings a
    link's BGP back) or the monitor's poll. A poll may see a LAG come up late, which is why BGP
    never comes back on a link except through the automation (emulator.judge.scenarios)."""
    timeline = Timeline.read(lab.dir)
    t0 = timeline.start
    evidence, bad = [], []
    for lag in lab.plan.lags:
        ups = timeline.sessions_established(lag.name)
        first_lag_up = timeline.first_lag_up(lag.name)
        if not ups:
            bad.append(f"{lag.name}: no session of this link reached Established"
                       + ("" if first_lag_up else "; the LAG never came up"))
            continue
        for event in ups:
            known = timeline.lag_state_at(lag.name, event.time)
            line = (f"{lag.name}: session {event.get('peer')} Established at "
                    f"+{event.time - t0:.3f} s with the LAG "
                    + ("never seen up" if known is None else
                       f"{'up' if known[0] else 'down'} (since +{known[1] - t0:.3f} s, "
                       f"{known[2]})"))
            (evidence if known and known[0] else bad).append(line)
    return Verdict("lag-before-bgp", not bad,
                   f"{len(evidence)} session start(s) with the LAG up, {len(bad)} without",
                   tuple(bad + evidence))


def mesh_formed(lab: Lab, sessions: list[observe.SessionState] | None = None) -> Verdict:
    sessions = sessions if sessions is not None else observe.all_sessions(lab.plan, lab.node_dir,
                                                                          lab.host)
    interconnect = [s for s in sessions if s.interconnect]
    down = [s for s in interconnect if not s.established]
    evidence = tuple(f"{s.session} {s.node} → {s.peer_node} {s.peer_address}: {s.state}"
                     for s in down + [s for s in interconnect if s.established])
    # A session down on a TCP MD5 mismatch (RFC 2385) says only Connect or Active: the
    # kernels' drop counters at both ends name the cause.
    ends = dict.fromkeys(n for s in down for n in (s.node, s.peer_node))
    evidence += tuple(line for node in ends for line in tcp_md5.drops(lab.runtime, node).lines())
    expected = sum(1 for s in lab.plan.sessions if s.interconnect)
    passed = not down and len(interconnect) == expected
    return Verdict("mesh-formed", passed,
                   f"{len(interconnect) - len(down)} of {expected} interconnect sessions Established",
                   evidence)


def microsoft_prefixes(lab: Lab) -> Verdict:
    """Every peer router holds the whole Microsoft prefix set, and each of its interconnect
    sessions received it itself: a router whose own Microsoft session is down still holds the
    set through its partner (iBGP), which must not pass for that session."""
    plan = lab.plan
    want = {"ipv4": sum(1 for p in plan.microsoft_prefixes if ":" not in p)}
    want["ipv6"] = len(plan.microsoft_prefixes) - want["ipv4"]
    evidence, bad = [], []
    sessions = sessions_ok = 0
    for node in plan.nodes_with(Role.PEER_ROUTER):
        d = lab.node_dir(node.name)
        counts = observe.microsoft_prefix_count(plan, node.name, d, lab.host)
        line = f"{node.name}: ipv4 {counts['ipv4']}/{want['ipv4']}, ipv6 {counts['ipv6']}/{want['ipv6']}"
        (evidence if counts == want else bad).append(line)
        for state in observe.node_sessions(plan, node.name, d, lab.host):
            if not state.interconnect:
                continue
            sessions += 1
            got = state.prefixes_received
            line = (f"{node.name} session {state.session} from {state.peer_node} "
                    f"{state.peer_address}: {state.state}, {got}/{want[state.family]} received")
            if state.established and got >= want[state.family]:
                sessions_ok += 1
                continue
            bad.append(line)
    routers = len(plan.nodes_with(Role.PEER_ROUTER))
    held = len(evidence)
    return Verdict("microsoft-prefixes", not bad,
                   f"{held} of {routers} peer routers hold the {len(plan.microsoft_prefixes)} "
                   f"Microsoft prefixes; {sessions_ok} of {sessions} interconnect sessions "
                   f"received them", 
                   tuple(bad + evidence))


def peer_prefixes(lab: Lab) -> Verdict:
    wanted = set(lab.plan.exchange_prefixes())
    evidence, bad = [], []
    for edge in observe.edge_routes(lab.plan, lab.node_dir, lab.host):
        missing = wanted - edge.prefixes()
        line = (f"{edge.node} ({edge.lag}): {len(wanted & edge.prefixes())}/{len(wanted)}"
                + (f", missing {sorted(missing)}" if missing else ""))
        (bad if missing else evidence).append(line)
    return Verdict("peer-prefixes", not bad,
                   f"{len(evidence)} of {len(evidence) + len(bad)} edge agents received every "
                   f"exchange prefix", tuple(bad + evidence))


def no_readvertisement(lab: Lab) -> Verdict:
    """The internet hears Microsoft's prefixes from the edges and none of the peer's (the FAQ:
    "Will Microsoft re-advertise the Peer prefixes to the Internet? No.")."""
    internet = lab.plan.nodes_with(Role.INTERNET)
    if not internet:
        return Verdict("no-readvertisement", True, "no internet node in this lab (microsoft.internet: false)")
    sources = observe.internet_sources(lab.plan, internet[0].name,
                                       lab.node_dir(internet[0].name), lab.host)
    heard = set(sources)
    leaked = sorted(heard & lab.plan.exchange_prefixes())
    microsoft = set(lab.plan.microsoft_prefixes)
    evidence = [f"the internet holds {len(heard & microsoft)} of {len(microsoft)} Microsoft prefixes"]
    evidence += [f"leaked: {p} (from {', '.join(sorted(sources[p]))})" for p in leaked]
    passed = not leaked and microsoft <= heard
    return Verdict("no-readvertisement", passed,
                   f"{len(leaked)} peer prefix(es) re-advertised to the internet", tuple(evidence))


def peer_devices(lab: Lab) -> Verdict:
    """The page: no stateful firewall on the peering device, no rate limiting on the
    connection; looked for in each peer router's namespace (nftables conntrack rules; nftables
    limits, meters and quotas; tc shapers and policers on its interconnect interfaces)."""
    bad, evidence = [], []
    for node in lab.plan.nodes_with(Role.PEER_ROUTER):
        found = observe.peer_device(lab.runtime, lab.plan, node.name)
        bad += [f"{node.name}: stateful firewall rule: {r}" for r in found.conntrack_rules]
        bad += [f"{node.name}: rate limit: {r}" for r in found.rate_limits]
        if not found.conntrack_rules and not found.rate_limits:
            evidence.append(f"{node.name}: no conntrack rule, no nftables limit, meter or "
                            f"quota, no shaper or policer")
    return Verdict("peer-devices", not bad,
                   f"{len(bad)} stateful firewall rule(s) or rate limit(s) on peer routers",
                   tuple(bad + evidence))


CHECKS: dict[str, Callable[..., Verdict]] = {
    "lag-before-bgp": lag_before_bgp,
    "mesh-formed": mesh_formed,
    "microsoft-prefixes": microsoft_prefixes,
    "peer-prefixes": peer_prefixes,
    "no-readvertisement": no_readvertisement,
    "peer-devices": peer_devices,
    **ROUTER_CHECKS,
}


def run_all(lab: Lab) -> list[Verdict]:
    """Every check; a router program that stopped is named first in every failed verdict, as
    the likely cause (its sessions, routes and limits are all gone with it)."""
    verdicts = [check(lab) for check in CHECKS.values()]
    stopped = observe.stopped_programs(lab.plan, lab.node_dir, lab.host, lab.driver)
    if not stopped:
        return verdicts
    cause = tuple(f"{p.describe()}: `mapslab recover {lab.plan.lab}` restarts it"
                  for p in stopped)
    return [v if v.passed else replace(v, evidence=cause + v.evidence) for v in verdicts]


def render(verdicts: list[Verdict]) -> str:
    lines = []
    for v in verdicts:
        lines.append(f"{'PASS' if v.passed else 'FAIL'}  {v.check:<20} {v.summary}")
        lines += [f"        {e}" for e in v.evidence]
    return "\n".join(lines)
