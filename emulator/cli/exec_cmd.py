"""`mapslab exec LAB NODE [-- COMMAND...]`: a command in a node, or its router's own CLI."""
from __future__ import annotations

import argparse
import os
import subprocess
import sys

from emulator.cli.common import lab_arg, lab_of


def cmd_exec(args: argparse.Namespace) -> int:
    from emulator.lab import inside, lifecycle
    command = list(args.command)
    if command[:1] == ["--"]:
        command = command[1:]
    with lifecycle.attached(lab_of(args.lab)) as running:
        argv = inside.argv(running, args.node, command)
    if sys.stdin.isatty():
        os.execvp(argv[0], argv)           # an interactive CLI gets the terminal itself
    return subprocess.run(argv, check=False).returncode


def add_parser(sub) -> None:
    p = sub.add_parser("exec", help="run a command in a node, or open its router's CLI "
                                    "(vtysh, birdc, bgpctl, gobgp) with the lab's sockets")
    lab_arg(p)
    p.add_argument("node")
    p.add_argument("command", nargs=argparse.REMAINDER,
                   help="after --: the command to run in the node (default: its router CLI)")
    p.set_defaults(func=cmd_exec)
