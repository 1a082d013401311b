"""Every error maps-lab raises on purpose.

MapsLabError
├── TopologyError        the topology file cannot be read or does not fit the format
│                        (carries every Problem found, each with file, YAML path and line)
├── PlanError            the intent cannot be turned into a lab plan (names, address pools)
├── RuntimeUnavailable   a tool or kernel feature the lab needs is missing on this host
├── LabStateError        a lab of that name already runs, or its state cannot be read
│   └── NoSuchLab        no lab of that name is up (a bad argument: the CLI exits 2)
├── CommandFailed        a command run inside a node failed (argv, exit code, stderr)
├── ValidationFailed     the topology breaks rules of the page (the rendered report)
├── WorkflowError        a portal step refused (emulator.portal), e.g. registering too early
├── FaultError           a fault cannot be injected as asked (emulator.judge.scenarios)
│   └── FaultRefused     refused before anything changed (also a UsageError: the CLI exits 2)
└── WaitTimeout          a named wait budget ran out (last observed state and a diff)
"""
from __future__ import annotations

from dataclasses import dataclass


class MapsLabError(Exception):
    """Base of every error maps-lab raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a topology file, located by YAML path and line."""

    path: str
    message: str
    line: int | None = None
    rule: str = "FORMAT"

    def render(self, source: str) -> str:
        where = f"{source}:{self.line}" if self.line else source
        return f"{where}: {self.path or '(top)'}: {self.message} [{self.rule}]"


class TopologyError(MapsLabError):
    def __init__(self, source: str, problems: list[Problem]):
        self.source = source
        self.problems = problems
        super().__init__("\n".join(p.render(source) for p in problems))


class PlanError(MapsLabError):
    pass


class RuntimeUnavailable(MapsLabError):
    pass


class LabStateError(MapsLabError):
    pass


class NoSuchLab(LabStateError):
    pass


class CommandFailed(MapsLabError):
    def __init__(self, argv: list[str], returncode: int, stderr: str):
        self.argv = argv
        self.returncode = returncode
        self.stderr = stderr
        super().__init__(f"{' '.join(argv)} exited {returncode}: {stderr.strip()[-800:]}")


class WaitTimeout(MapsLabError):
    def __init__(self, budget: str, seconds: float, last: object, diff: str):
        self.budget = budget
        self.seconds = seconds
        self.last = last
        self.diff = diff
        super().__init__(f"wait '{budget}' ran out after {seconds:.1f} s; still different:\n{diff}")


class ValidationFailed(MapsLabError):
    """The topology breaks rules of the page; `text` is the full rendered report."""

    def __init__(self, source: str, text: str, errors: int):
        self.source = source
        self.text = text
        self.errors = errors
        super().__init__(f"{source}: {errors} rule(s) of the MAPS page broken:\n{text}")


class WorkflowError(MapsLabError):
    """A step of the portal's workflow refused: what was asked, why, and what to do."""


class FaultError(MapsLabError):
    pass


class ReplayError(MapsLabError):
    pass


class FramingError(MapsLabError, ValueError):
    """The byte stream is not BGP: a bad marker or a length outside RFC 4271 4.1 bounds."""


class UsageError(MapsLabError, ValueError):
    """A command-line argument the parser accepted but the command cannot use."""


class FaultRefused(FaultError, UsageError):
    """A fault refused before anything was recorded or changed: its target is not one this
    scenario can fault in this lab."""
