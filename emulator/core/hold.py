"""The turn-up's steps, in the page's order, and where a lab's own automation is held.

The page's order: ports configured → LAG up → BGP configured by Microsoft's edge ("After the LAG
comes up, our automated process configures BGP") → sessions Established → connection Active →
ASN registered ("The Connection State of your peering connections must be Active before
registering your ASN") → prefix activated with the peering service prefix key.

`mapslab up --pause-at STEP` stops the lab's own automation once STEP is reached; the hold is
`<labdir>/turnup.json`, read by every part of the automation before it takes the next step,
and `mapslab continue` moves it on. The timeline records each hold and each release
(`turnup-held`, `turnup-continued`), so the portal knows when the connection became Active.

Standard library only: the edge's processes may read the hold too.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path

from emulator.core.errors import UsageError


class Step(StrEnum):
    """A milestone of the turn-up, in the page's order (the names of its emails)."""

    PORTS_CONFIGURED = "ports-configured"
    LAG_UP = "lag-up"
    BGP_CONFIGURED = "bgp-configured"
    SESSIONS_ESTABLISHED = "sessions-established"
    CONNECTION_ACTIVE = "connection-active"
    ASN_REGISTERED = "asn-registered"
    PREFIX_ACTIVATED = "prefix-activated"

    @property
    def position(self) -> int:
        return ORDER.index(self)

    def __lt__(self, other: object) -> bool:          # page order, not alphabetical
        if not isinstance(other, Step):
            return NotImplemented
        return self.position < other.position

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Step):
            return NotImplemented
        return self.position <= other.position

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, Step):
            return NotImplemented
        return self.position > other.position

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, Step):
            return NotImplemented
        return self.position >= other.position

    __hash__ = str.__hash__


ORDER: tuple[Step, ...] = tuple(Step)
# With `--turnup manual` the portal's optimized-routing steps are the user's own.
USER_STEPS = (Step.ASN_REGISTERED, Step.PREFIX_ACTIVATED)
# What is not there yet while the automation is held just before a step.
NOT_YET = {
    Step.PORTS_CONFIGURED: "Microsoft's ports are not configured",
    Step.LAG_UP: "the LAG is not up",
    Step.BGP_CONFIGURED: "Microsoft's edge has not configured BGP",
    Step.SESSIONS_ESTABLISHED: "the BGP sessions are not Established (the peer's BGP is held)",
    Step.CONNECTION_ACTIVE: "the connection is not Active",
    Step.ASN_REGISTERED: "no ASN is registered",
    Step.PREFIX_ACTIVATED: "no prefix is activated",
}


def parse_step(text: str, turnup: str = "auto") -> Step:
    """A step named on the command line; UsageError naming the choices."""
    try:
        step = Step(text)
    except ValueError:
        raise UsageError(f"--pause-at/--to {text!r}: not a step of the turn-up; the steps, in "
                         f"the page's order: {', '.join(ORDER)}") from None
    if turnup == "manual" and step in USER_STEPS:
        raise UsageError(f"--pause-at/--to {step}: with --turnup manual the lab registers and "
                         f"activates nothing (that is yours: `mapslab asn register`, `mapslab "
                         f"prefix activate`); pause at {Step.CONNECTION_ACTIVE} at the latest")
    return step


def following(step: Step | None) -> Step | None:
    """The step after `step` (the first with None); None after the last."""
    index = 0 if step is None else step.position + 1
    return ORDER[index] if index < len(ORDER) else None


@dataclass(frozen=True)
class Hold:
    """The lab's turn-up mode and, while it is held, the step it stands at."""

    turnup: str = "auto"
    held_at: str = ""          # a Step's value; "" once the automation ran to its end
    since: float = 0.0
    # Parts of the lab that a hold kept from starting, started by the step that needs them:
    # PEER_LAGS (the peer's LACP, for lag-up), PEER_BGP (the peer's routers, for Established).
    deferred: tuple[str, ...] = ()

    @property
    def step(self) -> Step | None:
        return Step(self.held_at) if self.held_at else None

    def allows(self, step: Step) -> bool:
        """May the automation take `step` now (it is not beyond the hold)?"""
        return self.step is None or step <= self.step

    def last_step(self) -> Step:
        """The last step the automation may take in this mode."""
        return Step.CONNECTION_ACTIVE if self.turnup == "manual" else Step.PREFIX_ACTIVATED


def hold_file(lab_path: Path) -> Path:
    return Path(lab_path) / "turnup.json"


def read(lab_path: Path) -> Hold:
    """The lab's hold; a lab without the file was never held (auto turn-up)."""
    try:
        data = json.loads(hold_file(lab_path).read_text())
    except (FileNotFoundError, ValueError):
        return Hold()
    return Hold(str(data.get("turnup", "auto")), str(data.get("held_at", "")),
                float(data.get("since", 0.0)), tuple(data.get("deferred", ())))


def write(lab_path: Path, hold: Hold) -> Hold:
    """Atomically, since the automation may read it at any moment."""
    path = hold_file(lab_path)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(hold)) + "\n")
    os.replace(tmp, path)
    return hold


PEER_LAGS = "peer-lags"
PEER_BGP = "peer-bgp"


def held(turnup: str, step: Step | None, deferred: tuple[str, ...] = ()) -> Hold:
    return Hold(turnup, step.value if step is not None else "", time.time(), deferred)
