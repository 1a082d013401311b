"""The FIB half of a router program that only keeps a RIB: its best routes in the node's kernel.

OpenBGPD-portable on Linux never programs the kernel FIB, and GoBGP does not without zebra
(RECIPES: "Peer-router programs in a namespace"). Their sessions and tables are real, but traffic
sent through such a router would be dropped, so failover through it could not be measured. The
kind's start() therefore runs this loop in the node, beside the program:

    python -m emulator.nodes.fib_sync {openbgpd|gobgp} --dir D --socket S

Every POLL seconds (at most 0.5) it reads the program's selected routes through its control socket
(`bgpctl -j show rib selected`, `gobgp -j global rib`), and makes the node's kernel table match
with `ip route replace PREFIX via NEXTHOP proto bgp` and `ip route del`, the next hop being the
one the program chose. Routes it installs carry RTPROT_BGP, and only those are ever touched: at
start it adopts the RTPROT_BGP routes already there (a restarted loop cleans up after the last).
Routes the program originates itself (no next hop) stay out of the kernel, as FRR's `network`
statements do; a next hop the kernel cannot reach directly is left out and retried each round.

When the program is gone (its pid file names no live process) every route is withdrawn, as zebra
does when bgpd dies; a restarted program (a new pid file) is picked up again. When it does not
answer in time the table is left as it is (a hung router keeps forwarding). The loop ends when
the node's directory is gone, that is when the lab is removed, or after --lifetime seconds.
"""
from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from emulator.edge.fib import RTPROT_BGP
from emulator.nodes import daemon
from emulator.nodes.base import OBSERVE_TIMEOUT, Host

POLL = 0.25         # seconds between two reads of the program's RIB
PROGRAMS = ("openbgpd", "gobgp")


@dataclass(frozen=True)
class Program:
    """How to read one program's best routes: its pid file's name, the commands, the parser."""

    pid_name: str
    commands: Callable[[str], list[list[str]]]
    best_routes: Callable[[str], dict[str, str]]


def program(name: str) -> Program:
    module = importlib.import_module(f"emulator.nodes.{name}")
    return Program(module.PID_NAME, module.rib_commands, module.best_routes)


def read_best(prog: Program, socket: str) -> dict[str, str] | None:
    """prefix -> next hop of every selected route, or None when the program did not answer."""
    wanted: dict[str, str] = {}
    for argv in prog.commands(socket):
        try:
            result = subprocess.run(argv, capture_output=True, text=True, timeout=OBSERVE_TIMEOUT,
                                    stdin=subprocess.DEVNULL)
        except (subprocess.TimeoutExpired, OSError):
            return None
        if result.returncode != 0:
            return None
        wanted.update(prog.best_routes(result.stdout))
    return wanted


def changes(installed: Mapping[str, str], wanted: Mapping[str, str]) -> list[str]:
    """`ip -batch` lines that turn the installed routes into the wanted ones."""
    lines = [f"route replace {prefix} via {hop} proto {RTPROT_BGP}"
             for prefix, hop in sorted(wanted.items()) if installed.get(prefix) != hop]
    lines += [f"route del {prefix} proto {RTPROT_BGP}"
              for prefix in sorted(installed) if prefix not in wanted]
    return lines


def failed_lines(stderr: str) -> set[int]:
    """Line numbers (1-based) that `ip -force -batch -` reports as `Command failed -:N`."""
    found = set()
    for line in stderr.splitlines():
        if line.startswith("Command failed -:"):
            try:
                found.add(int(line.rsplit(":", 1)[1]))
            except ValueError:
                continue
    return found


def apply(installed: dict[str, str], wanted: Mapping[str, str], lines: Sequence[str],
          run: Callable[[str], str]) -> list[str]:
    """Run the batch, update `installed` with what took; return the routes the kernel refused.

    A `del` that fails found the route gone already (the kernel drops a route with its link),
    which is what was wanted."""
    failed = failed_lines(run("\n".join(lines) + "\n"))
    refused = []
    for number, line in enumerate(lines, start=1):
        verb, prefix = line.split()[1:3]
        if verb == "del":
            installed.pop(prefix, None)
        elif number in failed:
            refused.append(line)         # what was there before (if anything) stays
        else:
            installed[prefix] = wanted[prefix]
    return refused


def ip_batch(text: str) -> str:
    result = subprocess.run(["ip", "-force", "-batch", "-"], input=text, capture_output=True,
                            text=True, timeout=30)
    return result.stderr


def adopt() -> dict[str, str]:
    """RTPROT_BGP routes already in the table (left by an earlier run of this loop)."""
    found: dict[str, str] = {}
    for family in ("-4", "-6"):
        try:
            out = subprocess.run(["ip", "-j", family, "route", "show", "proto", str(RTPROT_BGP)],
                                 capture_output=True, text=True, timeout=10).stdout
            for route in json.loads(out or "[]"):
                if route.get("gateway") and route.get("dst"):
                    found[route["dst"]] = route["gateway"]
        except (subprocess.TimeoutExpired, ValueError):
            continue
    return found


def run(name: str, d: Path, socket: str, interval: float = POLL,
        lifetime: float | None = None, log: Callable[[str], None] = print) -> None:
    prog = program(name)
    installed = adopt()
    deadline = None if lifetime is None else time.monotonic() + lifetime
    last_failed: list[str] = []
    while d.is_dir() and (deadline is None or time.monotonic() < deadline):
        pid = daemon.pid_of(d, prog.pid_name)
        wanted = read_best(prog, socket) if pid and daemon.alive(pid) else {}
        if wanted is not None:
            lines = changes(installed, wanted)
            if lines:
                failed = apply(installed, wanted, lines, ip_batch)
                if len(lines) != len(failed) or failed != last_failed:
                    log(f"{time.strftime('%H:%M:%S')} {len(lines) - len(failed)} changes, "
                        f"{len(installed)} routes installed"
                        + (f", {len(failed)} refused, e.g. `{failed[0]}`" if failed else ""))
                last_failed = failed
        time.sleep(interval)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emulator.nodes.fib_sync",
                                     description="Install a BGP program's best routes in the "
                                                 "kernel table of the node it runs in.")
    parser.add_argument("program", choices=PROGRAMS)
    parser.add_argument("--dir", required=True, type=Path, help="the node's directory")
    parser.add_argument("--socket", required=True, help="the program's control socket")
    parser.add_argument("--interval", type=float, default=POLL)
    parser.add_argument("--lifetime", type=float, default=None)
    args = parser.parse_args(argv)
    interval = min(max(args.interval, 0.05), 0.5)
    run(args.program, args.dir, args.socket, interval, args.lifetime,
        log=lambda line: print(line, flush=True))
    return 0


def spawn(host: Host, node: str, d: Path, name: str, socket: str) -> int | None:
    """Start the loop in the node unless one already runs for it; return its pid."""
    pid = daemon.pid_of(d, "fib_sync")
    if pid and daemon.alive(pid):
        return None
    argv = [sys.executable, "-m", "emulator.nodes.fib_sync", name, "--dir", str(d),
            "--socket", socket]
    return daemon.spawn(host, node, argv, d, "fib_sync", env=daemon.environment())


if __name__ == "__main__":
    sys.exit(main())
