"""The edge agent: an ExaBGP API process that judges and records every route the edge receives.

ExaBGP writes one JSON message a line on our stdin (encoder json); we answer with API commands on
stdout. Every line must be read, or ExaBGP stalls when the pipe fills. State kept:
  routes.json   the current Adj-RIB-In per peer, each route with its verdict (rewritten atomically)
  events.jsonl  the lab's timeline: session state changes, max-prefix teardowns, notifications
The peering's registrations (registered ASNs, activated prefixes) come from the lab's
peering.json when it exists, else from the agent's own config; a change of that file wakes the
agent (inotify) and every held route is judged again.
"""
from __future__ import annotations

import json
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Sequence
from typing import IO, Any

from emulator.core import events
from emulator.core.events import EventKind
from emulator.core.filewatch import FileWatch
from emulator.edge.fib import Fib, KernelFib, NoFib
from emulator.edge.policy import EdgePolicy, Outcome, judge
from emulator.edge.received import Defect, Handling
from emulator.edge.received import defects as _defects


@dataclass(frozen=True)
class AgentConfig:
    node: str
    lag: str
    routes_file: str
    events_file: str
    registered_asns: list[int]
    activated_prefixes: list[str]
    max_prefix: int
    peering_file: str = ""
    microsoft_prefixes: list[str] = field(default_factory=list)

    @classmethod
    def read(cls, path: str) -> "AgentConfig":
        return cls(**json.loads(Path(path).read_text()))


def as_path(attributes: dict[str, Any]) -> list[int]:
    """Flatten ExaBGP 5's AS_PATH ({"0": {"element": ..., "value": [...]}}) to a list of ASNs."""
    raw = attributes.get("as-path", {})
    if isinstance(raw, list):          # ExaBGP 4 style
        return [int(a) for a in raw]
    path: list[int] = []
    for key in sorted(raw, key=lambda k: int(k)):
        segment = raw[key]
        values = [int(a) for a in segment.get("value", [])]
        # RFC 4271 9.1.2.2: an AS_SET counts as one AS in the path length.
        path += values if segment.get("element") != "as-set" else values[:1]
    return path


# Seconds between looks at peering.json where inotify is missing, and where it is (a change it
# reported is read at once; the look is only a safety net).
PEERING_POLL = 0.1
PEERING_SAFETY_POLL = 2.0

ORIGINS = ("igp", "egp", "incomplete")


def malformed(family: str, next_hop: str, attributes: dict[str, Any]) -> str:
    """The RFC 7606 clause a route breaks that ExaBGP 5.0.15 lets through, or ''.

    Each of these is treat-as-withdraw (RFC 7606 2): the route is handled as withdrawn.
    """
    if "origin" not in attributes:
        return "RFC 7606 3.d: no ORIGIN (well-known mandatory)"
    if attributes["origin"] not in ORIGINS:
        return f"RFC 7606 7.1: ORIGIN of undefined value ({attributes['origin']})"
    raw = attributes.get("as-path", {})
    if isinstance(raw, dict) and any(not s.get("value") for s in raw.values()):
        return "RFC 7606 7.2: AS_PATH segment of length zero"
    if family.startswith("ipv4 ") and ":" in next_hop:
        return "RFC 7606 7.3: NEXT_HOP is not four octets"
    if family == "ipv4 unicast" and next_hop == "no-nexthop":
        return "RFC 7606 3.d: IPv4 NLRI without a NEXT_HOP"
    return ""


def peering_policy(data: dict[str, Any], microsoft_prefixes: list[str]) -> EdgePolicy:
    """The policy of peering.json's derived keys (emulator.portal.store.DERIVED_KEYS): each
    registered ASN with its prefix key, each activated prefix with the key it was activated
    with. A file without the keys (written by hand) is read as declared registrations."""
    if "prefix_keys" in data and "activation_keys" in data:
        return EdgePolicy.of({int(a): str(k) for a, k in data["prefix_keys"].items()},
                             {str(p): str(k) for p, k in data["activation_keys"].items()},
                             microsoft_prefixes)
    return EdgePolicy.declared((int(a) for a in data.get("registered_asns", [])),
                               data.get("activated_prefixes", []), microsoft_prefixes)


def wire_defects(body: str, external: bool) -> list[Defect]:
    """RFC 7606 defects of the raw UPDATE ExaBGP passed beside the parsed one (consolidate)."""
    try:
        # ExaBGP writes the octets as "0x" and upper-case hex digits.
        return _defects(bytes.fromhex(body.removeprefix("0x")), external) if body else []
    except ValueError:
        return []


def read_policy(config: AgentConfig) -> tuple[EdgePolicy, float]:
    """The policy in force and the peering file's mtime (0 when it does not exist)."""
    if config.peering_file:
        try:
            mtime = os.stat(config.peering_file).st_mtime
            data = json.loads(Path(config.peering_file).read_text())
            return peering_policy(data, config.microsoft_prefixes), mtime
        except (OSError, ValueError, AttributeError):
            pass
    return EdgePolicy.declared(config.registered_asns, config.activated_prefixes,
                               config.microsoft_prefixes), 0.0


def _stamp(path: str) -> tuple[int, int, int] | None:
    """What tells one version of a file from the next: inode, size, modification time."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


class EdgeAgent:
    def __init__(self, config: AgentConfig, commands: IO[str], fib: Fib | None = None):
        self.config = config
        self.commands = commands
        self.fib = fib or NoFib()
        self.peering_stamp = _stamp(config.peering_file) if config.peering_file else None
        self.policy, self.policy_mtime = read_policy(config)
        self.rib: dict[str, dict[str, dict[str, Any]]] = {}
        self.torn_down: set[str] = set()
        self.lock = threading.Lock()

    def reload_policy(self) -> bool:
        """Judge every held route again if the peering's registrations changed."""
        stamp = _stamp(self.config.peering_file)
        if stamp is not None and stamp == self.peering_stamp:
            return False            # the same file as last read (replaced files change inode)
        self.peering_stamp = stamp
        policy, mtime = read_policy(self.config)
        if mtime == self.policy_mtime and policy == self.policy:
            return False
        with self.lock:
            self.policy, self.policy_mtime = policy, mtime
            changed = 0
            for table in self.rib.values():
                for prefix, route in table.items():
                    verdict = judge(self.policy, prefix, route["as_path"])
                    if verdict.outcome.value != route["outcome"]:
                        changed += 1
                    route.update(outcome=verdict.outcome.value, rule=verdict.rule,
                                 reason=verdict.reason)
                    self._program(prefix, route["next_hop"], verdict.outcome)
            self.event(EventKind.POLICY_RELOADED, registered_asns=sorted(policy.registered_asns),
                       activated_prefixes=sorted(policy.activated_prefixes), changed=changed)
            self.save()
        return True

    def _program(self, prefix: str, next_hop: str, outcome: Outcome) -> None:
        if outcome in (Outcome.OPTIMIZED, Outcome.NOT_OPTIMIZED):
            self.fib.install(prefix, next_hop)
        else:
            self.fib.remove(prefix)

    def event(self, kind: EventKind, **fields: object) -> None:
        events.append(self.config.events_file, kind, node=self.config.node,
                      lag=self.config.lag, **fields)

    def save(self) -> None:
        tmp = self.config.routes_file + ".tmp"
        with open(tmp, "w") as out:
            json.dump({"node": self.config.node, "lag": self.config.lag, "updated": time.time(), "peers": self.rib}, out)
        os.replace(tmp, self.config.routes_file)

    def handle(self, message: dict[str, Any]) -> None:
        with self.lock:
            self._handle(message)

    def _handle(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        neighbor = message.get("neighbor", {})
        peer = neighbor.get("address", {}).get("peer", "?")
        if kind == "state":
            state = neighbor.get("state")
            self.event(EventKind.BGP_STATE, peer=peer, state=state,
                       peer_asn=neighbor.get("asn", {}).get("peer"))
            if state in ("down", "connected"):
                for prefix in self.rib.pop(peer, {}):
                    self.fib.remove(prefix)
                self.save()
            elif state == "up":
                self.rib.setdefault(peer, {})
                self.torn_down.discard(peer)
                self.save()
        elif kind == "update":
            update = neighbor.get("message", {}).get("update")
            if update:
                asn = neighbor.get("asn", {})
                self.update(peer, update, wire_defects(message.get("body", ""),
                                                       asn.get("local") != asn.get("peer")))
        elif kind == "notification":
            # ExaBGP 5 puts it beside the address ("neighbor": {"notification": ...}).
            self.event(EventKind.BGP_NOTIFICATION, peer=peer,
                       notification=neighbor.get("notification")
                       or neighbor.get("message", {}).get("notification"))

    def update(self, peer: str, update: dict[str, Any], found: Sequence[Defect] = ()) -> None:
        table = self.rib.setdefault(peer, {})
        withdraw_all = next((f"{d.clause}: {d.reason}" for d in found
                             if d.handling is Handling.TREAT_AS_WITHDRAW), "")
        discarded = sorted({d.attribute for d in found if d.handling is Handling.ATTRIBUTE_DISCARD})
        attributes = update.get("attribute", {})
        withdrawn = [route.get("nlri", "") for family_routes in update.get("withdraw", {}).values()
                     for route in family_routes]
        for prefix in withdrawn:
            if table.pop(prefix, None) is not None:
                self.fib.remove(prefix)
        if "error" in attributes:
            # ExaBGP's own RFC 7606 verdict: "treat-as-withdraw" (the NLRI arrive withdrawn)
            # or "discard" (the attribute was dropped and the route kept).
            announced = [r.get("nlri") for by_hop in update.get("announce", {}).values()
                         for routes in by_hop.values() for r in routes]
            self.event(EventKind.BGP_MALFORMED, peer=peer, handling=attributes["error"],
                       prefixes=sorted(set(withdrawn + announced)), by="exabgp")
        path = as_path(attributes)
        for family, by_nexthop in update.get("announce", {}).items():
            seen: set[str] = set()
            for next_hop, routes in by_nexthop.items():
                for route in routes:
                    prefix = route.get("nlri")
                    # RFC 2545 3: an IPv6 route may come with a global and a link-local next
                    # hop, listed by ExaBGP as two entries; the global one comes first.
                    if not prefix or prefix in seen:
                        continue
                    seen.add(prefix)
                    reason = withdraw_all or malformed(family, next_hop, attributes)
                    if reason:
                        if table.pop(prefix, None) is not None:
                            self.fib.remove(prefix)
                        self.event(EventKind.BGP_MALFORMED, peer=peer, handling="treat-as-withdraw",
                                   prefixes=[prefix], reason=reason, by="agent")
                        continue
                    verdict = judge(self.policy, prefix, path)
                    table[prefix] = {"family": family, "next_hop": next_hop, "as_path": path,
                                     "outcome": verdict.outcome.value, "rule": verdict.rule,
                                     "reason": verdict.reason, "received": time.time()}
                    if discarded:
                        table[prefix]["discarded"] = discarded
                    self._program(prefix, next_hop, verdict.outcome)
        kept = sorted(prefix for by_hop in update.get("announce", {}).values()
                      for routes in by_hop.values() for r in routes
                      if (prefix := r.get("nlri")) in table)
        for defect in found:
            if defect.handling is Handling.ATTRIBUTE_DISCARD and kept:
                # RFC 7606 2: the attribute is dropped, the routes are kept without it.
                self.event(EventKind.BGP_MALFORMED, peer=peer, handling=defect.handling.value,
                           attribute=defect.attribute, prefixes=kept,
                           reason=f"{defect.clause}: {defect.reason}", by="agent")
        counted = sum(1 for r in table.values() if r["outcome"] != Outcome.DISCARDED.value)
        if counted > self.config.max_prefix and peer not in self.torn_down:
            # RFC 4486 3: Cease subcode 1, Maximum Number of Prefixes Reached.
            self.torn_down.add(peer)
            self.commands.write(f"neighbor {peer} teardown 1\n")
            self.commands.flush()
            self.event(EventKind.MAX_PREFIX, peer=peer, count=counted, limit=self.config.max_prefix)
        self.save()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    config = AgentConfig.read(args[0])
    agent = EdgeAgent(config, sys.stdout, KernelFib())
    agent.save()

    def watch() -> None:
        # Woken by the kernel when peering.json is replaced; a look every few seconds as well,
        # and every PEERING_POLL where the kernel cannot tell us (reload_policy is a stat).
        with FileWatch(config.peering_file or config.routes_file) as changes:
            timeout = PEERING_SAFETY_POLL if changes.kernel else PEERING_POLL
            while True:
                changes.wait(timeout)
                agent.reload_policy()
    if config.peering_file:
        threading.Thread(target=watch, daemon=True).start()
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        try:
            message = json.loads(line)
        except ValueError:
            continue          # ExaBGP prints non-JSON lines (e.g. 'done') we do not act on
        agent.handle(message)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
