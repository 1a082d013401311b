"""The edge agent: an ExaBGP API process that judges and records every route the edge receives.

ExaBGP writes one JSON message a line on our stdin (encoder json); we answer with API commands on
stdout. Every line must be read, or ExaBGP stalls when the pipe fills. State kept:
  routes.json   the current Adj-RIB-In per peer, each route with its verdict (rewritten atomically)
  events.jsonl  the lab's timeline: session state changes, max-prefix teardowns, notifications
"""
from __future__ import annotations

import json
import os
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

from emulator.edge.fib import Fib, KernelFib, NoFib
from emulator.edge.policy import EdgePolicy, Outcome, judge


@dataclass(frozen=True)
class AgentConfig:
    node: str
    lag: str
    routes_file: str
    events_file: str
    registered_asns: list[int]
    activated_prefixes: list[str]
    max_prefix: int

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


class EdgeAgent:
    def __init__(self, config: AgentConfig, commands: IO[str], fib: Fib | None = None):
        self.config = config
        self.commands = commands
        self.fib = fib or NoFib()
        self.policy = EdgePolicy(frozenset(config.registered_asns),
                                 frozenset(config.activated_prefixes))
        self.rib: dict[str, dict[str, dict[str, Any]]] = {}
        self.torn_down: set[str] = set()

    def event(self, kind: str, **fields: object) -> None:
        record = {"time": time.time(), "kind": kind, "node": self.config.node,
                  "lag": self.config.lag, **fields}
        with open(self.config.events_file, "a") as out:
            out.write(json.dumps(record) + "\n")

    def save(self) -> None:
        tmp = self.config.routes_file + ".tmp"
        with open(tmp, "w") as out:
            json.dump({"node": self.config.node, "lag": self.config.lag, "updated": time.time(), "peers": self.rib}, out)
        os.replace(tmp, self.config.routes_file)

    def handle(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        neighbor = message.get("neighbor", {})
        peer = neighbor.get("address", {}).get("peer", "?")
        if kind == "state":
            state = neighbor.get("state")
            self.event("bgp-state", peer=peer, state=state,
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
                self.update(peer, update)
        elif kind == "notification":
            self.event("bgp-notification", peer=peer,
                       notification=neighbor.get("message", {}).get("notification"))

    def update(self, peer: str, update: dict[str, Any]) -> None:
        table = self.rib.setdefault(peer, {})
        for family_routes in update.get("withdraw", {}).values():
            for route in family_routes:
                if table.pop(route.get("nlri", ""), None) is not None:
                    self.fib.remove(route["nlri"])
        path = as_path(update.get("attribute", {}))
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
                    verdict = judge(self.policy, prefix, path)
                    table[prefix] = {"family": family, "next_hop": next_hop, "as_path": path,
                                     "outcome": verdict.outcome.value, "rule": verdict.rule,
                                     "reason": verdict.reason, "received": time.time()}
                    if verdict.outcome in (Outcome.OPTIMIZED, Outcome.NOT_OPTIMIZED):
                        self.fib.install(prefix, next_hop)
                    else:
                        self.fib.remove(prefix)
        counted = sum(1 for r in table.values() if r["outcome"] != Outcome.DISCARDED.value)
        if counted > self.config.max_prefix and peer not in self.torn_down:
            # RFC 4486 3: Cease subcode 1, Maximum Number of Prefixes Reached.
            self.torn_down.add(peer)
            self.commands.write(f"neighbor {peer} teardown 1\n")
            self.commands.flush()
            self.event("max-prefix", peer=peer, count=counted, limit=self.config.max_prefix)
        self.save()


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    config = AgentConfig.read(args[0])
    agent = EdgeAgent(config, sys.stdout, KernelFib())
    agent.save()
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
