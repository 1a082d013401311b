"""ExaBGP's reactor at the edge: a signal ends its sleep at once; long sleeps only when quiet."""
from __future__ import annotations

import os
import select
import signal
import threading
import time
from types import SimpleNamespace

import pytest

from emulator.edge import reactor_sleep

pytest.importorskip("exabgp")


class _Fsm:
    def __init__(self, state: str):
        self.state = state

    def __eq__(self, other: object) -> bool:
        return self.state == other


def _reactor(*states: str, teardown: object = None):
    peers = {i: SimpleNamespace(fsm=_Fsm(s), _teardown=teardown) for i, s in enumerate(states)}
    return SimpleNamespace(_peers=peers, _poller=select.poll())


def test_a_turn_is_long_only_when_every_peer_is_established():
    assert reactor_sleep.quiet(_reactor("established", "established"), "established")
    assert not reactor_sleep.quiet(_reactor("established", "connect"), "established")
    assert not reactor_sleep.quiet(_reactor("established", teardown=object()), "established")
    assert not reactor_sleep.quiet(_reactor(), "established")
    assert reactor_sleep.turn_ms(50, True) == reactor_sleep.IDLE_SLEEP_MS
    assert reactor_sleep.turn_ms(50, False) == 50
    assert reactor_sleep.turn_ms(0, True) == 0          # work waiting: no sleep at all


def test_a_signal_wakes_the_reactor_before_its_turn_ends():
    from exabgp.reactor.loop import Reactor
    original = Reactor._wait_for_io
    previous = signal.signal(signal.SIGUSR1, lambda *_: None)
    try:
        reactor_sleep.install()
        fake = _reactor("idle")
        fake._prevent_spin = lambda: None
        fake._termination = lambda *_: None
        threading.Timer(0.05, os.kill, (os.getpid(), signal.SIGUSR1)).start()
        started = time.monotonic()
        woken = list(Reactor._wait_for_io(fake, 30_000))     # a 30 s turn
        assert time.monotonic() - started < 25, "the signal did not end the poll"
        assert woken == []              # the wake-up pipe is drained, never handed on
    finally:
        Reactor._wait_for_io = original
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGUSR1, previous)
