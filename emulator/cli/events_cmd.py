"""`mapslab events` (the automated emails; one in full with --show N) and `mapslab timeline`
(the recorded LACP, BGP, fault and turn-up events)."""
from __future__ import annotations

import argparse

from emulator.cli.common import format_arg, lab_arg, lab_of, print_json


def _views():
    """The portal's views (they load the topology and plan machinery: imported when used)."""
    from emulator.cli import portal_views
    return portal_views


def _labdir(lab: str):
    from emulator.core.labdir import LabDir
    labdir = LabDir(lab_of(lab))
    labdir.read_state()                 # NoSuchLab when no such lab is up
    return labdir


def cmd_events(args: argparse.Namespace) -> int:
    from emulator.portal import mail, store
    labdir = _labdir(args.lab)
    if args.show is not None:
        delivered, text = mail.read(labdir, args.show)
        if args.format == "json":
            print_json({**_delivered(delivered), "body": mail.body(text)})
        else:
            print(text, end="" if text.endswith("\n") else "\n")
        return 0
    found = store.events(labdir)
    if args.format == "json":
        print_json([_delivered(d) for d in found])
    else:
        print(_views().render_events(found), end="")
    return 0


def _delivered(d) -> dict:
    return {"sequence": d.sequence, "time": d.time, "milestone": d.milestone,
            "subject": d.subject, "from": d.sender, "to": d.to, "message_id": d.message_id}


def cmd_timeline(args: argparse.Namespace) -> int:
    from emulator.observe.timeline import Timeline
    timeline = Timeline.read(_labdir(args.lab))
    if args.format == "json":
        print_json({"lab": lab_of(args.lab), "start": timeline.start, "events": [
            {"time": e.time, "offset": round(e.time - timeline.start, 6), "kind": e.kind.value,
             "fields": dict(e.fields)} for e in timeline.events]})
        return 0
    for event in timeline.events:
        fields = " ".join(f"{k}={v}" for k, v in event.fields.items())
        print(f"+{event.time - timeline.start:9.3f}s  {event.kind:<16} {fields}")
    return 0


def _sequence(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--show takes an email's number, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"--show takes an email's number (1 or more), not {text}")
    return value


def add_parser(sub) -> None:
    p = sub.add_parser("events", help="the turn-up's notifications (the lab's maildir)")
    lab_arg(p)
    p.add_argument("--show", type=_sequence, metavar="N", help="print email number N in full")
    format_arg(p)
    p.set_defaults(func=cmd_events)
    p = sub.add_parser("timeline", help="the lab's recorded events (LACP, BGP, faults)")
    lab_arg(p)
    format_arg(p)
    p.set_defaults(func=cmd_timeline)
