"""JUnit XML of a regression run, the format CI servers read (Jenkins, GitLab, GitHub's test
reporters): a <testsuites> root holding one <testsuite> with counts and times, and one <testcase>
per check and per failover scenario, with a <failure>, <error> or <skipped> when it did not pass.

Written with xml.etree, so every text and attribute is escaped; characters that XML 1.0 cannot
hold at all (a router program's control characters in evidence) are replaced, so the file is
always well-formed.
"""
from __future__ import annotations

import re
import socket
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from emulator.judge.verdict import Verdict

CHECK = "mapslab.check"
FAILOVER = "mapslab.failover"
LAB = "mapslab.lab"

# XML 1.0 section 2.2, production [2] Char: everything else may not appear, even escaped.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class Case:
    """One judged item of a run: a check, a failover scenario or the bring-up itself."""

    classname: str
    name: str
    seconds: float
    verdict: Verdict | None = None     # None when it raised or was not run
    error: str | None = None           # the exception that stopped it
    skipped: str | None = None         # why it was not run

    @property
    def outcome(self) -> str:
        if self.skipped is not None:
            return "skipped"
        if self.error is not None or self.verdict is None:
            return "error"
        return "passed" if self.verdict.passed else "failed"

    @property
    def ok(self) -> bool:
        """Nothing in it fails a run (a skip is reported, not failed)."""
        return self.outcome in ("passed", "skipped")

    def text(self) -> str:
        """The verdict's summary and every line of its evidence, as a reader of the report wants."""
        lines = [self.error] if self.error else []
        if self.verdict is not None:
            lines += [self.verdict.summary, *self.verdict.evidence]
        return "\n".join(lines)


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _testcase(case: Case) -> ET.Element:
    element = ET.Element("testcase", classname=case.classname, name=_clean(case.name),
                         time=f"{case.seconds:.3f}")
    outcome = case.outcome
    if outcome == "skipped":
        ET.SubElement(element, "skipped", message=_clean(case.skipped or ""))
    elif outcome in ("failed", "error"):
        first = case.error if outcome == "error" else case.verdict.summary
        detail = ET.SubElement(element, "failure" if outcome == "failed" else "error",
                               message=_clean((first or "").splitlines()[0] if first else ""),
                               type=case.verdict.check if case.verdict else "error")
        detail.text = _clean(case.text())
    elif case.verdict is not None and case.verdict.evidence:
        ET.SubElement(element, "system-out").text = _clean(case.text())
    return element


def render(suite: str, cases: list[Case], properties: dict[str, str] | None = None,
           started: float | None = None) -> ET.ElementTree:
    """The run as a JUnit tree; the suite's time is the sum of its cases' times."""
    counts = {k: sum(1 for c in cases if c.outcome == k) for k in ("failed", "error", "skipped")}
    seconds = f"{sum(c.seconds for c in cases):.3f}"
    root = ET.Element("testsuites", name=_clean(suite), tests=str(len(cases)),
                      failures=str(counts["failed"]), errors=str(counts["error"]),
                      skipped=str(counts["skipped"]), time=seconds)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime(started or time.time()))
    testsuite = ET.SubElement(root, "testsuite", name=_clean(suite), tests=str(len(cases)),
                              failures=str(counts["failed"]), errors=str(counts["error"]),
                              skipped=str(counts["skipped"]), time=seconds, timestamp=stamp,
                              hostname=socket.gethostname())
    if properties:
        props = ET.SubElement(testsuite, "properties")
        for name, value in properties.items():
            ET.SubElement(props, "property", name=_clean(name), value=_clean(value))
    testsuite.extend(_testcase(c) for c in cases)
    ET.indent(root)
    return ET.ElementTree(root)


def write(path: Path, suite: str, cases: list[Case], properties: dict[str, str] | None = None,
          started: float | None = None) -> None:
    render(suite, cases, properties, started).write(path, encoding="utf-8", xml_declaration=True)
