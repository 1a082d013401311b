"""Polling with named budgets: every wait in maps-lab goes through here.

A budget is a name and a number of seconds, all kept in BUDGETS so they can be read and tuned in
one place. ``until`` retries an observation until a check accepts it; on timeout it raises
WaitTimeout with the last observation and a readable diff against what was expected.
"""
from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TypeVar

from emulator.core.errors import WaitTimeout

BUDGETS: dict[str, float] = {
    "daemon_socket": 10.0,     # a daemon's control socket appears after start
    "lacp_setup": 20.0,        # every LAG has LACP collecting and distributing on its members
    # A member whose partner information was defaulted is re-learnt at the slow periodic
    # rate (IEEE 802.1AX-2014 6.4.7: Slow_Periodic_Time, 30 s), whatever the fast setting.
    "lacp_recovery": 40.0,
    "ebgp_session": 45.0,      # every BGP session Established
    "prefixes": 30.0,          # routes propagated to where they are expected
    "process_exit": 5.0,       # a signalled process is gone
    # ExaBGP reloads its configuration (SIGUSR1). It defers a reload while updates wait to be
    # sent (exabgp.reactor.loop: _pending_adjribout), to a peer that cannot take them until its
    # hold timer expires (RFC 4271 6.5; the lab's hold time is 10 s).
    "speaker_reload": 30.0,
    "probe_echo": 10.0,        # the traffic probe's first echo (its sender starts Python)
    # A negative check ("nothing leaked") must keep holding this long after convergence.
    "negative_window": 3.0,
}
INTERVAL = 0.05
# Reads are cheap (control sockets, unixctl): a wait looks again at least ten times a second,
MAX_INTERVAL = 0.1
# unless a look is not cheap (many routers): then the pause after it is at least this many
# times what the look took, so that a wait keeps to a small share of a core.
COST_FACTOR = 3.0

T = TypeVar("T")


def pause(interval: float, cost: float) -> float:
    """How long to wait before the next look: the backed-off interval, at most MAX_INTERVAL,
    and never less than COST_FACTOR times what the last look cost."""
    return max(min(interval, MAX_INTERVAL), COST_FACTOR * cost)


def until(budget: str, observe: Callable[[], T], diff: Callable[[T], str],
          seconds: float | None = None) -> T:
    """Call observe() until diff(observation) is empty; return the accepted observation."""
    limit = BUDGETS[budget] if seconds is None else seconds
    deadline = time.monotonic() + limit
    interval = INTERVAL
    while True:
        looked = time.monotonic()
        last = observe()
        cost = time.monotonic() - looked
        difference = diff(last)
        if not difference:
            return last
        if time.monotonic() >= deadline:
            raise WaitTimeout(budget, limit, last, difference)
        time.sleep(min(pause(interval, cost), max(0.0, deadline - time.monotonic())))
        interval = min(interval * 1.5, MAX_INTERVAL)


def during(budget: str, observe: Callable[[], T], seconds: float | None = None,
           interval: float = 0.5) -> list[T]:
    """Observe for the whole budget (at least once); every observation, in order. For checks
    that something never happens: one look could fall in a quiet moment."""
    limit = BUDGETS[budget] if seconds is None else seconds
    deadline = time.monotonic() + limit
    seen = [observe()]
    while time.monotonic() < deadline:
        time.sleep(min(interval, max(0.0, deadline - time.monotonic())))
        seen.append(observe())
    return seen


def subset_diff(expected: object, actual: object, path: str = "") -> list[str]:
    """Lines naming where `actual` does not contain `expected` (dicts compared as subsets)."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path or '.'}: expected a mapping, got {json.dumps(actual)[:120]}"]
        lines = []
        for key, value in expected.items():
            if key not in actual:
                lines.append(f"{path}.{key}: missing (expected {json.dumps(value)[:120]})")
            else:
                lines += subset_diff(value, actual[key], f"{path}.{key}")
        return lines
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{path or '.'}: expected {json.dumps(expected)[:120]}, got {json.dumps(actual)[:120]}"]
        lines = []
        for index, (want, got) in enumerate(zip(expected, actual)):
            lines += subset_diff(want, got, f"{path}[{index}]")
        return lines
    if expected != actual:
        return [f"{path or '.'}: expected {expected!r}, got {actual!r}"]
    return []
