"""`mapslab portal`: the turn-up through a local web portal, and the live lab on one screen."""
from __future__ import annotations

import argparse
from pathlib import Path


def _port(text: str) -> int:
    """An argparse type: a TCP port, 0 (any free one) to 65535."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--port must be a number, not {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"--port must be 0-65535, not {value}")
    return value


def cmd_portal(args: argparse.Namespace) -> int:
    from emulator.web import server

    def say(line: str) -> None:
        print(line, flush=True)
    portal = server.serve(args.listen, args.port, Path(args.dir), say)
    left = portal.jobs.unfinished()
    for job in left:
        say(f"stopped during the {job.kind} of lab {job.lab}: `mapslab down {job.lab}` removes "
            f"what it built")
    say("portal stopped; labs are left as they are (`mapslab down LAB` removes one)")
    return 0


def add_parser(sub) -> None:
    p = sub.add_parser("portal", help="a local web portal: the page's turn-up screens and the "
                                      "lab view (Ctrl-C stops it, labs stay)")
    p.add_argument("--port", type=_port, default=8075,
                   help="TCP port (default 8075; 0 picks a free one)")
    p.add_argument("--listen", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1, loopback only)")
    p.add_argument("--dir", default="portal",
                   help="where the portal writes the topology files it creates (default portal/)")
    p.set_defaults(func=cmd_portal)
