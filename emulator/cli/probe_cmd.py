"""`mapslab probe`: sequenced UDP from a member's endpoint to Microsoft, in plain figures."""
from __future__ import annotations

import argparse

from emulator.cli.common import format_arg, lab_arg, lab_of, positive, print_json


def responders(counts: dict[str, int]) -> str:
    """`sea-ms1 412, sea-ms2 88`, or `nobody`."""
    return ", ".join(f"{name} {n}" for name, n in sorted(counts.items())) or "nobody"


def cmd_probe(args: argparse.Namespace) -> int:
    from emulator.judge import traffic
    from emulator.lab import lifecycle as lab
    with lab.attached(lab_of(args.lab)) as running:
        flow = traffic.default_flow(running.plan, args.family, args.member)
        result = traffic.measure(running, flow, args.count, args.rate)
    if args.format == "json":
        print_json({"flow": {"source_node": flow.source_node, "source": flow.source,
                             "destination": flow.destination},
                    "sent": result.sent, "received": result.received, "lost": result.lost,
                    "reordered": result.reordered, "duplicates": result.duplicates,
                    "longest_gap_ms": result.longest_gap_ms,
                    "responders": dict(result.responders)})
    else:
        print(f"{flow.source_node} {flow.source} → {flow.destination}: sent {result.sent}, "
              f"lost {result.lost}, reordered {result.reordered}, longest gap "
              f"{result.longest_gap_ms:.0f} ms, answered by {responders(result.responders)}")
    return 0 if result.lost == 0 else 3


def add_parser(sub) -> None:
    p = sub.add_parser("probe", help="sequenced UDP from a member's endpoint to Microsoft")
    lab_arg(p)
    p.add_argument("--family", choices=("ipv4", "ipv6"), default="ipv4")
    p.add_argument("--member", help="the member whose endpoint sends (default: the first)")
    p.add_argument("--count", type=positive(int, "--count"), default=500)
    p.add_argument("--rate", type=positive(float, "--rate"), default=100.0)
    format_arg(p)
    p.set_defaults(func=cmd_probe)
