"""A check's verdict: passed or not, a one-line summary, and the evidence behind it."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Verdict:
    check: str
    passed: bool
    summary: str
    evidence: tuple[str, ...] = ()
    # Why it cannot be judged yet (a turn-up held before the step it needs), else "".
    pending: str = ""
