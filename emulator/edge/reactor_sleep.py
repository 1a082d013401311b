"""How ExaBGP 5.0.15's reactor sleeps at the edge: woken by signals, and long while all is quiet.

The reactor (exabgp.reactor.loop Reactor.run) polls its sockets and API pipes for at most
reactor.speed / 100 seconds a turn, then looks at everything again; a signal (SIGUSR1: reload)
is only seen at the next turn, as Python resumes an interrupted poll() (PEP 475). So a short
turn buys a quick reload at the price of waking twenty times a second, idle or not.

Here a signal wakes the poll at once (signal.set_wakeup_fd on a pipe the poll watches), so a
reload starts as soon as it is asked for, and the turn is IDLE_SLEEP long while every peer is
Established: then anything that needs the reactor arrives on a descriptor the poll watches (a
peer's socket, an API pipe, the wake-up pipe). A peer still connecting or opening gets the
configured short turn, as before. Keepalives are due every hold time / 3 (RFC 4271 4.4); IDLE_SLEEP
is a small fraction of the shortest the lab uses (10 s / 3).
"""
from __future__ import annotations

import os
import select
import signal
from collections.abc import Callable, Iterator
from typing import Any

IDLE_SLEEP_MS = 500


def quiet(reactor: Any, established: Any) -> bool:
    """Every peer Established (none connecting, opening or closing)."""
    peers = list(reactor._peers.values())
    return bool(peers) and all(p.fsm == established and getattr(p, "_teardown", None) is None
                               for p in peers)


def turn_ms(configured: int, is_quiet: bool) -> int:
    """How long one turn may sleep: 0 stays 0 (work is waiting), quiet turns are long."""
    if configured <= 0:
        return configured
    return max(configured, IDLE_SLEEP_MS) if is_quiet else configured


def drain(fd: int) -> None:
    try:
        while os.read(fd, 512):
            pass
    except BlockingIOError:
        pass


def install() -> None:
    from exabgp.bgp.fsm import FSM
    from exabgp.reactor.loop import Reactor

    wait_for_io: Callable[..., Iterator[int]] = Reactor._wait_for_io

    def _wait_for_io(self: Any, sleeptime: int) -> Iterator[int]:
        wake = getattr(self, "_wake_fd", None)
        if wake is None:
            wake, write_end = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
            signal.set_wakeup_fd(write_end, warn_on_full_buffer=False)
            self._poller.register(wake, select.POLLIN)
            self._wake_fd = wake
        for fd in wait_for_io(self, turn_ms(sleeptime, quiet(self, FSM.ESTABLISHED))):
            if fd == wake:
                drain(wake)
                continue
            yield fd

    Reactor._wait_for_io = _wait_for_io         # type: ignore[method-assign]
