"""Run the traffic probe in a lab: reflectors on every Microsoft edge, a sender behind the exchange."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from emulator.core import wait
from emulator.core.errors import CommandFailed, PlanError
from emulator.plan.model import Role
from emulator.judge.probe import ProbeResult
from emulator.runtime.netns import namespace
from emulator.lab.lifecycle import Lab

PYTHON = sys.executable
PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])


@dataclass(frozen=True)
class Flow:
    source_node: str
    source: str          # an endpoint address behind the exchange
    destination: str     # Microsoft's anycast service address


def default_flow(plan, family: str = "ipv4", member: str | None = None) -> Flow:
    v6 = family == "ipv6"
    members = [n for n in plan.nodes_with(Role.MEMBER) if member in (None, n.name)]
    for node in members:
        for endpoint in node.endpoints:
            if (":" in endpoint) == v6:
                dst = next((e for e in plan.microsoft_endpoints if (":" in e) == v6), None)
                if dst:
                    return Flow(node.name, endpoint.split("/")[0], dst.split("/")[0])
    raise PlanError(f"no member endpoint and Microsoft service address for {family}")


class RunningProbe:
    """A probe under way; `result()` waits for it within its bound."""

    def __init__(self, lab: Lab, flow: Flow, count: int, rate: float):
        self.flow = flow
        self.seconds = count / rate
        plan = lab.plan
        run_dir = lab.dir.path / "probe"
        run_dir.mkdir(parents=True, exist_ok=True)
        ready = []
        self.reflectors: list[int] = []
        for node in plan.nodes_with(Role.EDGE):
            ready_file = run_dir / f"{node.name}-{'v6' if ':' in flow.destination else 'v4'}.ready"
            ready_file.unlink(missing_ok=True)
            self.reflectors.append(lab.runtime.spawn(node.name, [PYTHON, "-m", "emulator.judge.probe", "reflect", "--bind",
                                          flow.destination, "--name", node.name, "--seconds",
                                          f"{self.seconds + 10:.0f}", "--ready-file", str(ready_file)],
                              run_dir / f"{node.name}.log", env={"PYTHONPATH": PACKAGE_ROOT}))
            ready.append(ready_file)
        wait.until("daemon_socket", lambda: [str(f) for f in ready if not f.exists()],
                   lambda missing: "\n".join(f"reflector not ready: {m}" for m in missing))
        self.progress = run_dir / f"sender-{'v6' if ':' in flow.destination else 'v4'}.progress"
        self.progress.unlink(missing_ok=True)
        self.started = time.time()
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", namespace(plan.lab, flow.source_node), PYTHON, "-m",
             "emulator.judge.probe", "send", "--src", flow.source, "--dst", flow.destination,
             "--count", str(count), "--rate", str(rate), "--progress", str(self.progress)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL,
            env={"PYTHONPATH": PACKAGE_ROOT, "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"})

    def carrying(self) -> str:
        """The edge that answered the latest echo so far ('' before the first echo)."""
        try:
            return self.progress.read_text().split()[1]
        except (OSError, IndexError):
            return ""

    def result(self) -> ProbeResult:
        try:
            out, err = self.proc.communicate(timeout=self.seconds + 30)
        finally:
            self.proc.kill()
            for pid in self.reflectors:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if self.proc.returncode != 0:
            raise CommandFailed(["emulator.judge.probe", "send"], self.proc.returncode, err)
        data = json.loads(out)
        data.pop("lost", None)
        data["lost_sequences"] = tuple(data["lost_sequences"])
        return ProbeResult(**data)


def start(lab: Lab, flow: Flow | None = None, count: int = 1000, rate: float = 100.0) -> RunningProbe:
    return RunningProbe(lab, flow or default_flow(lab.plan), count, rate)


def measure(lab: Lab, flow: Flow | None = None, count: int = 200, rate: float = 100.0) -> ProbeResult:
    return start(lab, flow, count, rate).result()
