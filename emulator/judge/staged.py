"""The checks of a lab whose turn-up may be held (`mapslab up --pause-at`): each check is judged
only once the turn-up has reached the step it needs; before that it says what is not there yet
("not yet: the LAG is not up") instead of failing. A lab that is not held is judged in full.
"""
from __future__ import annotations

from emulator.core import hold as holds
from emulator.core.hold import Step
from emulator.judge import checks
from emulator.judge.verdict import Verdict
from emulator.lab.lifecycle import Lab

# The step each check needs; every other check needs the sessions Established (and so the
# routers' programs running, which a hold keeps back before then).
NEEDS: dict[str, Step] = {
    "peer-devices": Step.PORTS_CONFIGURED,      # the peer routers' namespaces are enough
}


def not_yet(check: str, held: Step | None) -> str:
    """Why `check` cannot be judged while the turn-up is held at `held`; "" if it can."""
    need = NEEDS.get(check, Step.SESSIONS_ESTABLISHED)
    if held is None or need <= held:
        return ""
    missing = holds.following(held) or need
    return f"{holds.NOT_YET[missing]} (the turn-up is held at {held})"


def run_all(lab: Lab) -> list[Verdict]:
    """Every check, judged where the turn-up allows it."""
    held = holds.read(lab.dir.path).step
    found = []
    for name, check in checks.CHECKS.items():
        reason = not_yet(name, held)
        found.append(Verdict(name, False, f"not yet: {reason}", (), pending=reason) if reason
                     else check(lab))
    return found


def failed(verdicts: list[Verdict]) -> list[Verdict]:
    """The checks that were judged and failed (one not judged yet has not failed)."""
    return [v for v in verdicts if not v.passed and not v.pending]


def result(v: Verdict) -> str:
    return "not-yet" if v.pending else "pass" if v.passed else "fail"


def render(verdicts: list[Verdict]) -> str:
    """As checks.render; a check not judged yet reads NOT YET."""
    pending = [v for v in verdicts if v.pending]
    judged = checks.render([v for v in verdicts if not v.pending])
    return "\n".join(([judged] if judged else [])
                     + [f"NOT YET {v.check:<20} {v.pending}" for v in pending])


def to_json(lab: str, verdicts: list[Verdict], held: Step | None) -> dict:
    return {"lab": lab, "held_at": held.value if held else None,
            "passed": not failed(verdicts),
            "checks": [{"check": v.check, "result": result(v), "summary": v.summary,
                        "evidence": list(v.evidence)} for v in verdicts]}
