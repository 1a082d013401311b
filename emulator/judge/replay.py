"""Bad BGP input from the peer side: the RFC 7606 replay set (emulator.edge.rfc7606) sent at a
running lab's edge. `replay` sends the set over one interconnect session
whose peer side was handed to a `PeerSpeaker` (`take_over`), and returns what the edge did with
each case, as the edge agent recorded it. It observes and never judges; the tests judge.

How one case is observed, so that "withdrawn" and "ignored" are told apart:
  1. the case's prefix is announced well formed, and seen in the agent's routes;
  2. the crafted UPDATE is sent for that prefix, then a well-formed marker UPDATE for another
     prefix; ExaBGP handles one session's messages in order, so once the marker is in the
     agent's routes (or the session is down) the crafted UPDATE has been dealt with;
  3. the prefix's record then says it: gone (withdrawn), re-received (updated), untouched
     (ignored), or the whole session went down (reset, with the NOTIFICATION the edge sent).
"""
from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass, field

from emulator.core import wait
from emulator.core.errors import ReplayError, WaitTimeout
from emulator.edge.rfc7606 import (GOOD_PREFIXES, REPLAY_SET, Case, Effect, Handling, Peer,
                                   case, case_prefix, good_update, marker_prefix)
from emulator.edge.wire import Notification, PeerSpeaker, SpeakerConfig
from emulator.observe import observers as observe
from emulator.plan.model import BgpSession, Role
from emulator.runtime.netns import namespace
from emulator.lab.lifecycle import Lab

__all__ = ["GOOD_PREFIXES", "REPLAY_SET", "Case", "Effect", "Handling", "Peer", "case",
           "case_prefix", "good_update", "marker_prefix", "replay", "take_over", "hand_back"]


# ------------------------------------------------------------------ running it in a lab

RouteKey = tuple[str, str, str]          # edge node, peer address, prefix
Routes = dict[RouteKey, dict]


def edge_snapshot(lab: Lab) -> Routes:
    """Every route every edge agent holds, with its record as the agent wrote it."""
    return {(edge.node, peer, prefix): dict(record)
            for edge in observe.edge_routes(lab.plan, lab.node_dir)
            for peer, table in edge.peers.items() for prefix, record in table.items()}


def route_changes(before: Routes, after: Routes, ignore=lambda key: False) -> list[str]:
    """Readable lines for every route added, removed or re-received between two snapshots."""
    lines = []
    for key in sorted(set(before) | set(after)):
        if ignore(key):
            continue
        node, peer, prefix = key
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if new is None:
            lines.append(f"{node}: {prefix} from {peer} removed")
        elif old is None:
            lines.append(f"{node}: {prefix} from {peer} added")
        else:
            fields = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
            lines.append(f"{node}: {prefix} from {peer} changed ({', '.join(fields)})")
    return lines


@dataclass(frozen=True)
class CaseObservation:
    """What the edge did with one crafted UPDATE, and every edge route around it.

    `routes_before` is the snapshot after the previous case (or after the good routes were
    announced, for the first), so that the windows of consecutive cases cover the whole run.
    """

    case: str
    edge: str                          # the edge node the session ends on
    peer: str                          # the replayed session's peer address
    prefix: str
    marker: str
    before: dict | None                # the agent's record of the prefix, well formed
    after: dict | None                 # and after the crafted UPDATE
    settled: bool                      # the marker arrived, or the session went down
    session_down: bool
    notification: Notification | None  # what the edge sent, if it ended the session
    agent_saw_down: bool               # the agent recorded the session going down
    routes_before: Routes = field(default_factory=dict, repr=False)
    routes_after: Routes = field(default_factory=dict, repr=False)
    note: str = ""

    @property
    def effect(self) -> Effect:
        if self.session_down:
            return Effect.SESSION_RESET
        if not self.settled:
            return Effect.UNSETTLED
        if self.after is None:
            return Effect.WITHDRAWN
        if self.before is not None and self.after.get("received") == self.before.get("received"):
            return Effect.UNCHANGED
        return Effect.UPDATED

    def collateral(self) -> list[str]:
        """Routes that changed during the case and are not the case's own business: anything
        but its prefix and marker; for a session reset, anything but the replayed session's."""
        def own(key: RouteKey) -> bool:
            node, peer, prefix = key
            if node != self.edge or peer != self.peer:
                return False
            return self.session_down or prefix in (self.prefix, self.marker)
        return route_changes(self.routes_before, self.routes_after, own)

    def describe(self) -> str:
        parts = [f"{self.case} ({self.prefix}): {self.effect.value}"]
        if self.notification:
            parts.append(f"edge sent {self.notification}")
        if self.after is not None:
            parts.append(f"route as_path {self.after.get('as_path')} "
                         f"next_hop {self.after.get('next_hop')}")
        if self.note:
            parts.append(self.note)
        return "; ".join(parts)


@dataclass
class ReplayRun:
    session: str
    edge: str
    peer: str
    started: float
    routes_at_start: Routes = field(default_factory=dict, repr=False)
    good_before: dict[str, dict] = field(default_factory=dict)
    observations: list[CaseObservation] = field(default_factory=list)
    routes_at_end: Routes = field(default_factory=dict, repr=False)
    finished: float = 0.0

    def observation(self, name: str) -> CaseObservation:
        for found in self.observations:
            if found.case == name:
                return found
        raise KeyError(name)

    def other_sessions_changes(self) -> list[str]:
        """Routes of every session but the replayed one that differ between start and end."""
        return route_changes(self.routes_at_start, self.routes_at_end,
                             lambda key: (key[0], key[1]) == (self.edge, self.peer))


def _v6_address(lab, session: BgpSession) -> str:
    """The peer router's IPv6 address on the same link: a NEXT_HOP of the wrong size."""
    for other in lab.plan.sessions:
        if other.lag == session.lag and other.family == "ipv6":
            return other.a_address
    return "2001:db8::1"


def session_routes(lab: Lab, session: BgpSession) -> dict[str, dict] | None:
    """The agent's routes from the session's peer address; None while it holds no session."""
    for edge in observe.edge_routes(lab.plan, lab.node_dir):
        if edge.node == session.b_node and edge.lag == session.lag:
            return edge.peers.get(session.a_address)
    return None


def _frr(lab: Lab, session: BgpSession, *commands: str) -> None:
    d = lab.node_dir(session.a_node)
    argv = ["vtysh", "--vty_socket", str(d), "-c", "configure terminal",
            "-c", f"router bgp {session.a_asn}"]
    for command in commands:
        argv += ["-c", command]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    if result.returncode != 0 or "%" in result.stdout:
        raise ReplayError(f"{' '.join(argv)}: {result.stdout}{result.stderr}".strip())


def _peer_side_state(lab: Lab, session: BgpSession) -> str:
    for state in observe.node_sessions(lab.plan, session.a_node, lab.node_dir(session.a_node)):
        if state.session == session.name:
            return state.state
    return "Unknown"


# FRR 8.4 sends its whole table a second time 2-3 s after a session comes up, with nothing
# changed; a baseline taken before that would count the repeat as a change.
QUIET = 5.0


def wait_quiet(lab: Lab, quiet: float = QUIET) -> Routes:
    """Wait (prefixes budget) until no edge route has changed for `quiet` seconds."""
    last: dict = {"routes": None, "since": time.monotonic()}

    def look() -> tuple[Routes, float]:
        routes = edge_snapshot(lab)
        if routes != last["routes"]:
            last.update(routes=routes, since=time.monotonic())
        return routes, time.monotonic() - last["since"]
    routes, _ = wait.until("prefixes", look, lambda seen: "" if seen[1] >= quiet else
                           f"edge routes changed {seen[1]:.1f} s ago (quiet needs {quiet} s)")
    return routes


def take_over(lab: Lab, session: BgpSession) -> None:
    """Shut the peer router's side of the session (its configuration kept), wait until the
    edge has let it go and every edge's routes are still: a PeerSpeaker can then open the
    session from the same address, against a baseline nothing else is changing."""
    if lab.plan.node(session.a_node).role is not Role.PEER_ROUTER:
        raise ReplayError(f"{session.name}: {session.a_node} is not a peer router")
    _frr(lab, session, f"neighbor {session.b_address} shutdown")
    wait.until("ebgp_session", lambda: session_routes(lab, session),
               lambda table: "" if table is None else
               f"{session.b_node} still holds {len(table)} routes from {session.a_address}")
    wait_quiet(lab)


def hand_back(lab: Lab, session: BgpSession) -> None:
    """Give the session back to the peer router and wait until it is Established again."""
    _frr(lab, session, f"no neighbor {session.b_address} shutdown")
    wait.until("ebgp_session", lambda: _peer_side_state(lab, session),
               lambda s: "" if s == "Established" else f"{session.name}: {s}")


def _speaker(lab: Lab, session: BgpSession) -> PeerSpeaker:
    node = lab.plan.node(session.a_node)
    config = SpeakerConfig(namespace(lab.plan.lab, session.a_node), session.a_address,
                           session.b_address, session.a_asn, node.router_id or session.a_address,
                           lab.plan.timers.hold)
    last: Exception | None = None
    # The edge may be busy with its own connection attempt towards the (shut) peer router
    # when ours arrives: a few attempts, each bounded by the ebgp_session budget.
    for _ in range(3):
        speaker = PeerSpeaker(config)
        try:
            speaker.connect()
            return speaker
        except (OSError, WaitTimeout) as exc:
            last = exc
            speaker.close(farewell=None)
    raise ReplayError(f"{session.name}: no session from {session.a_address}: {last}")


def _wait_present(lab: Lab, session: BgpSession, prefixes: list[str], speaker: PeerSpeaker) -> None:
    wanted = set(prefixes)

    def missing(table: dict | None) -> str:
        if speaker.down:
            raise ReplayError(f"{session.name}: {speaker.describe()} while waiting for "
                              f"{sorted(wanted)}")
        lacking = wanted - set(table or {})
        return f"{session.b_node} lacks {sorted(lacking)}" if lacking else ""
    wait.until("prefixes", lambda: session_routes(lab, session), missing)


def _agent_saw_down(lab: Lab, session: BgpSession, since: float) -> bool:
    return any(e.get("kind") == "bgp-state" and e.get("peer") == session.a_address
               and e.get("node") == session.b_node and e.get("state") == "down"
               and e.get("time", 0) >= since for e in lab.dir.events())


def _observe_case(lab: Lab, session: BgpSession, speaker: PeerSpeaker, peer: Peer, index: int,
                  crafted: Case, routes_before: Routes) -> CaseObservation:
    prefix, marker = case_prefix(index), marker_prefix(index)
    speaker.send(good_update([prefix], peer))
    _wait_present(lab, session, [prefix], speaker)
    before = dict((session_routes(lab, session) or {})[prefix])
    sent_at = time.time()
    notes = []
    speaker.send(crafted.craft(prefix, peer))
    try:
        speaker.send(good_update([marker], peer))
    except OSError as exc:            # the edge may have closed the session already
        notes.append(f"marker not sent: {exc}")

    def settled(table: dict | None) -> str:
        if speaker.down:
            return ""
        return "" if table and marker in table else f"marker {marker} not at {session.b_node}"
    marker_seen = True
    try:
        wait.until("prefixes", lambda: session_routes(lab, session), settled)
    except WaitTimeout:
        marker_seen = False
        notes.append(f"the marker {marker} never reached the agent's routes and the session "
                     f"stayed up ({speaker.describe()})")
    down = speaker.down
    if down:
        # The agent writes its record of the session going down just after ExaBGP's event.
        try:
            wait.until("prefixes", lambda: _agent_saw_down(lab, session, sent_at),
                       lambda seen: "" if seen else "the agent has not recorded the session down")
        except WaitTimeout as exc:
            notes.append(exc.diff)
    after = None if down else (session_routes(lab, session) or {}).get(prefix)
    return CaseObservation(crafted.name, session.b_node, session.a_address, prefix, marker,
                           before, after, marker_seen or down, down, speaker.notification,
                           _agent_saw_down(lab, session, sent_at), routes_before,
                           edge_snapshot(lab), "; ".join(notes))


def replay(lab: Lab, session: BgpSession, cases: tuple[Case, ...] = REPLAY_SET) -> ReplayRun:
    """Run the cases over a session taken over with `take_over`: the cases that keep the
    session first, on one session, then each case that needs a reset on a session of its own."""
    peer = Peer(session.a_asn, session.a_address, _v6_address(lab, session))
    run = ReplayRun(session.name, session.b_node, session.a_address, time.time(),
                    edge_snapshot(lab))
    ordered = ([(i, c) for i, c in enumerate(cases) if c.handling is not Handling.SESSION_RESET]
               + [(i, c) for i, c in enumerate(cases) if c.handling is Handling.SESSION_RESET])
    speaker = _speaker(lab, session)
    try:
        speaker.send(good_update(list(GOOD_PREFIXES), peer))
        _wait_present(lab, session, list(GOOD_PREFIXES), speaker)
        table = session_routes(lab, session) or {}
        run.good_before = {p: dict(table[p]) for p in GOOD_PREFIXES}
        routes = edge_snapshot(lab)
        for index, crafted in ordered:
            if speaker.down:
                speaker.close(farewell=None)
                speaker = _speaker(lab, session)
            observation = _observe_case(lab, session, speaker, peer, index, crafted, routes)
            run.observations.append(observation)
            routes = observation.routes_after
    finally:
        speaker.close()
    run.routes_at_end = edge_snapshot(lab)
    run.finished = time.time()
    return run
