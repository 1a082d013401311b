"""Looks at every LAG, both sides, for as long as a failover's probe runs.

One look at the end would pass a LAG that flapped and came back; the harness judges the member
scenarios from every look (emulator.judge.scenarios.base.LagSample). A look that fails (a
daemon that does not answer) stops the sampler and is raised to the harness: an error is never
turned into a state.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

from emulator.judge.scenarios.base import LagSample
from emulator.observe import observers as observe

if TYPE_CHECKING:
    from emulator.lab.lifecycle import Lab
    from emulator.plan.model import Lag, LagMember

# A look is one driver observation per router (Open vSwitch: two unixctl calls); one every
# 0.1 s keeps the figures well inside the LACP fast timeout (3 s).
LOOK_EVERY = 0.1


@dataclass(frozen=True)
class Look:
    """One side of one LAG at one moment: which members were up."""

    at: float
    lag: str
    side: str                       # peer | edge
    up: tuple[str, ...]             # members collecting and distributing
    members: int

    def sample(self, member: str | None) -> LagSample:
        """As the judges read it, for the faulted member (None: no member faulted)."""
        return LagSample(self.at, self.side, len(self.up), self.members,
                         None if member is None else member in self.up)


class LagSampler:
    """Looks at every LAG, both sides, in a background thread until `stop()`."""

    def __init__(self, lab: Lab):
        self.lab = lab
        self.looks: list[Look] = []
        self.error: BaseException | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lag-sampler", daemon=True)
        self._thread.start()

    def look(self) -> list[Look]:
        """Both sides of every LAG, now."""
        found = []
        for obs in observe.lags(self.lab.plan, self.lab.driver):
            for side, state in (("peer", obs.peer_side), ("edge", obs.edge_side)):
                found.append(Look(state.observed_at, obs.lag, side,
                                  tuple(m.ifname for m in state.members if m.up),
                                  len(state.members)))
        return found

    def _run(self) -> None:
        try:
            while not self._done.is_set():
                self.looks += self.look()
                self._done.wait(LOOK_EVERY)
        except BaseException as exc:       # handed to the harness's thread by stop()
            self.error = exc

    def stop(self) -> list[Look]:
        """Stop looking; every look in time order, or the error a look raised."""
        self._done.set()
        self._thread.join()
        if self.error is not None:
            raise self.error
        return sorted(self.looks, key=lambda look: look.at)


def samples(looks: list[Look], lag: Lag, member: LagMember | None) -> tuple[LagSample, ...]:
    """The looks at one LAG as samples of its faulted member (if any)."""
    names = {"peer": member.a_ifname, "edge": member.b_ifname} if member else {}
    return tuple(look.sample(names.get(look.side)) for look in looks if look.lag == lag.name)
