"""How often a wait looks again: backed off to MAX_INTERVAL, and never cheaper than its looks."""
from __future__ import annotations

import pytest

from emulator.core import wait
from emulator.core.errors import WaitTimeout


def test_cheap_looks_come_back_at_most_max_interval_apart():
    assert wait.pause(wait.INTERVAL, 0.001) == wait.INTERVAL
    assert wait.pause(10.0, 0.001) == wait.MAX_INTERVAL


def test_a_costly_look_is_followed_by_a_pause_several_times_as_long():
    assert wait.pause(wait.INTERVAL, 0.2) == pytest.approx(wait.COST_FACTOR * 0.2)


def test_until_returns_the_first_accepted_look_and_times_out_with_the_last_diff():
    looks = iter(range(100))
    assert wait.until("daemon_socket", lambda: next(looks),
                      lambda n: "" if n >= 2 else f"{n} < 2") == 2
    with pytest.raises(WaitTimeout) as caught:
        wait.until("daemon_socket", lambda: 0, lambda n: "still 0", seconds=0.05)
    assert "still 0" in str(caught.value)
