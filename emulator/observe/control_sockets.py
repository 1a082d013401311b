"""Answer the observers' vtysh and birdc reads over the programs' control sockets.

A read of an FRR or BIRD router spawns `vtysh --vty_socket DIR -c CMD` or `birdc -s SOCK CMD`:
tens of milliseconds each, many times a second while a lab comes up. The same answer comes off
the program's own socket in well under a millisecond (emulator.nodes.vty, emulator.nodes.birdctl).
`answer` gives what the spawned program would have printed and its exit status, or None where
it cannot stand in for it (another command, a socket that is not there or does not answer in
time, a reply the client leaves to the program): then the caller spawns as before.
"""
from __future__ import annotations

import subprocess
from collections.abc import Sequence

from emulator.core.errors import CommandFailed
from emulator.nodes import birdctl, vty


def _text(output: str) -> str:
    """As `subprocess.run(text=True)` reads a program's stdout (universal newlines)."""
    return output.replace("\r\n", "\n").replace("\r", "\n")


def _vtysh(argv: list[str], timeout: float) -> subprocess.CompletedProcess[str] | None:
    """`vtysh --vty_socket DIR -c CMD` for a show command bgpd alone answers."""
    directory, command = argv[2], argv[4]
    if not vty.bgpd_show(command):
        return None
    reply = vty.ask(directory, command, timeout=timeout)
    if reply.status in vty.NOT_PARSED:
        return None                 # vtysh words its own refusal
    return subprocess.CompletedProcess(argv, reply.exit_code, _text(reply.output), "")


def _birdc(argv: list[str], timeout: float) -> subprocess.CompletedProcess[str] | None:
    """`birdc -s SOCK CMD` for a show command."""
    ctl, command = argv[2], argv[3]
    if not birdctl.birdc_show(command):
        return None
    reply = birdctl.ask(ctl, command, timeout=timeout)
    return subprocess.CompletedProcess(argv, reply.exit_code, _text(reply.text), "")


def answer(argv: Sequence[str], timeout: float) -> subprocess.CompletedProcess[str] | None:
    """What the read `argv` would give, read off the program's socket; None: spawn it."""
    args = list(argv)
    try:
        if len(args) == 5 and args[0] == "vtysh" and args[1] == "--vty_socket" \
                and args[3] == "-c":
            return _vtysh(args, timeout)
        if len(args) == 4 and args[0] == "birdc" and args[1] == "-s":
            return _birdc(args, timeout)
    except CommandFailed:
        return None
    return None
