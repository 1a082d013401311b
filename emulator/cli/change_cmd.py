"""`mapslab announce|withdraw LAB NODE PREFIX` and `mapslab set LAB LAG lacp|rate VALUE`:
change a running lab in place (emulator.lab.change)."""
from __future__ import annotations

import argparse

from emulator.cli.common import lab_arg, lab_of


def cmd_originate(args: argparse.Namespace) -> int:
    from emulator.lab import change, lifecycle
    announce = args.command == "announce"
    with lifecycle.attached(lab_of(args.lab)) as running:
        change.originate(running, args.node, args.prefix, announce)
        if args.no_wait:
            seen = change.at_edges(running, args.prefix)
        else:
            seen = change.wait_at_edges(running, args.prefix, announce)
    where = ", ".join(f"{e.node} ({e.lag})" for e in seen) or "no edge"
    print(f"{args.node} {'announced' if announce else 'withdrew'} {args.prefix}; "
          f"Microsoft's edge holds it at: {where}")
    return 0


def cmd_set(args: argparse.Namespace) -> int:
    from emulator.lab import change, lifecycle
    with lifecycle.attached(lab_of(args.lab)) as running:
        node = change.set_lag(running, args.lag, args.what, args.value, args.side)
    print(f"LAG {args.lag}: {args.what} {args.value} on {node} ({args.side} side); "
          f"`mapslab status {running.plan.lab}` shows the members")
    return 0


def add_parser(sub) -> None:
    for name, helptext in (("announce", "a member (or a lab-made peer router) announces a "
                                        "prefix"),
                           ("withdraw", "a member (or a lab-made peer router) withdraws a "
                                        "prefix")):
        p = sub.add_parser(name, help=helptext)
        lab_arg(p)
        p.add_argument("node", help="a member, a peer router or the route server")
        p.add_argument("prefix")
        p.add_argument("--no-wait", action="store_true",
                       help="do not wait until Microsoft's edge sees the change")
        p.set_defaults(func=cmd_originate)
    p = sub.add_parser("set", help="change one end of a LAG in place: lacp active|passive|off, "
                                   "rate fast|slow")
    lab_arg(p)
    p.add_argument("lag")
    p.add_argument("what", choices=("lacp", "rate"))
    p.add_argument("value", help="lacp: active, passive or off; rate: fast or slow")
    p.add_argument("--side", choices=("peer", "edge"), default="peer",
                   help="which end of the LAG (default: the peer router's)")
    p.set_defaults(func=cmd_set)
