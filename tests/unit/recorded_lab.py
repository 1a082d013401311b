"""A lab recorded from real daemons, replayed without root: every command the observers and
checks ran, answered from its recorded output (tests/fixtures/lab/, README.md there).

A recording is a folder with `dir/` (the lab's own directory: state, timeline, portal files) and
`commands/<node>/<key>.txt` (what each command printed in that node). `RecordedHost` answers the
commands (the observers' Host and the checks' runtime); `recorded_ovs` answers Open vSwitch's
unixctl reads; `RecordedLab` is what checks and status take.
"""
from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from emulator.core.labdir import LabDir
from emulator.plan.model import Plan
from emulator.plan.resolve import recorded_plan

RECORDINGS = Path(__file__).resolve().parents[1] / "fixtures" / "lab"
LAB = "h7rec"                   # the recorded lab's name
# The recorded topology named its Microsoft prefix set (16 prefixes) by an absolute path.
PREFIX_SET = ("/tmp/h7/microsoft-prefixes.txt", RECORDINGS / "microsoft-prefixes.txt")


def command_key(node_dir: Path | None, argv: Sequence[str]) -> str:
    """The file name a command's output is kept under: the command without the lab's paths."""
    words = [str(a) for a in argv]
    if node_dir is not None:
        words = [w.replace(str(node_dir), "NODE") for w in words]
    if words[:1] == ["vtysh"]:
        words = ["vtysh", words[-1]]              # --vty_socket NODE -c COMMAND
    elif words[:1] == ["birdc"]:
        words = ["birdc", words[-1]]              # -s NODE/bird.ctl COMMAND
    return re.sub(r"[^A-Za-z0-9.]+", "-", " ".join(words)).strip("-")[:120]


def file_key(node_dir: Path, path: Path) -> str:
    return "file-" + command_key(None, [str(Path(path).relative_to(node_dir))])


@dataclass
class RecordedHost:
    """Answers `run(node, argv)` and `read_text(node, path)` from a recording; what it had no
    recording for fails (exit 1), and is remembered in `unanswered`."""

    commands: Path
    node_dirs: Path
    unanswered: list[tuple[str, str]] = field(default_factory=list)

    def _answer(self, node: str, key: str) -> str | None:
        path = self.commands / node / f"{key}.txt"
        if path.is_file():
            return path.read_text()
        self.unanswered.append((node, key))
        return None

    def run(self, node: str, argv: Sequence[str], check: bool = True,
            timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
        out = self._answer(node, command_key(self.node_dirs / node, argv))
        return subprocess.CompletedProcess(list(argv), 0 if out is not None else 1, out or "",
                                           "" if out is not None else "not recorded")

    def spawn(self, node, argv, log, env=None) -> int:
        raise AssertionError("a recorded lab starts nothing")

    def read_text(self, node: str, path: Path) -> str | None:
        return self._answer(node, file_key(self.node_dirs / node, path))

    def appctl(self, ctl: str, command: str, args: list[str]) -> str:
        """ovs.\\_appctl's answer: the node is the folder of its ovs/vswitchd.ctl."""
        node = Path(ctl).parent.parent.name
        return self._answer(node, command_key(None, ["ovs-appctl", command, *args])) or ""


@dataclass
class RecordedLab:
    """emulator.lab.lifecycle.Lab's reading side, over a recording."""

    plan: Plan
    dir: LabDir
    host: RecordedHost
    driver: object
    degraded: list[str] = field(default_factory=list)

    @property
    def runtime(self) -> RecordedHost:
        return self.host

    def node_dir(self, node: str) -> Path:
        return self.dir.path / "nodes" / node

    def close(self) -> None:
        pass


def recorded_lab(state: str, run_root: Path, monkeypatch) -> RecordedLab:
    """The recording `state` as a lab under run_root (a LabDir root), its Open vSwitch reads
    answered from the recording too."""
    from emulator.runtime.lag import ovs
    source = RECORDINGS / state
    labdir = LabDir(LAB, run_root)
    shutil.copytree(source / "dir", labdir.path)
    # git keeps no empty folder: a Maildir's cur/ and tmp/ (maildir(5)) come back
    # here, as the lab itself creates them.
    for folder in ("cur", "new", "tmp"):
        (labdir.path / "maildir" / folder).mkdir(parents=True, exist_ok=True)
    topology = labdir.path / "topology.yaml"
    topology.write_text(topology.read_text().replace(PREFIX_SET[0], str(PREFIX_SET[1])))
    host = RecordedHost(source / "commands", labdir.path / "nodes")
    monkeypatch.setattr(ovs, "_appctl", host.appctl)
    driver = ovs.OvsLagDriver(host, lambda node: labdir.path / "nodes" / node)
    # The recordings predate reading Open vSwitch's pid files: they hold none to answer with.
    monkeypatch.setattr(driver, "programs", lambda node: [])
    return RecordedLab(recorded_plan(labdir), labdir, host, driver)
