"""The node agent: the lab's Python inside the containers (edge automation, program start-up),
run here against recorded /proc/net/bonding reports, with ExaBGP replaced by a recorder."""
from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from emulator.core import events
from emulator.core.errors import WaitTimeout
from emulator.nodes import registry
from emulator.plan import planfile
from emulator.runtime.containerlab import node_agent
from emulator.runtime.containerlab.node_agent import EdgeSpeaker
from tests.conftest import ROOT
from tests.containerlab.conftest import FIXTURES_DIR, TOPOLOGIES, plan_of


class Exec:
    """Stands in for os.execve: records what would have replaced the agent."""

    def __init__(self) -> None:
        self.called: list[tuple[str, list[str], dict[str, str]]] = []

    def __call__(self, path, argv, env) -> None:
        self.called.append((path, list(argv), dict(env)))


def speaker(tmp_path: Path, fixture: str | None, **changes) -> EdgeSpeaker:
    (tmp_path / "state").mkdir(exist_ok=True)
    base = EdgeSpeaker("sea-ms1", "/maps-lab/lag0/exabgp.conf", ("198.18.0.1", "2001:db8:ffff::1"),
                       "/var/lib/maps-lab/lag0/exabgp.log", "/opt/maps-lab/venv/bin/exabgp",
                       str(tmp_path / "state" / "events.jsonl"), "sea-1-a", "lag0",
                       str(FIXTURES_DIR / fixture) if fixture else None)
    return dataclasses.replace(base, **changes)


def timeline(tmp_path: Path) -> list[events.Event]:
    path = tmp_path / "state" / "events.jsonl"
    lines = path.read_text().splitlines() if path.exists() else []
    return [events.Event.parse(json.loads(line)) for line in lines]


def test_exabgp_starts_once_lacp_is_up(tmp_path):
    execve = Exec()
    node_agent.run_edge(speaker(tmp_path, "proc-net-bonding-lag0-up.txt"), execve, say=print)
    recorded = timeline(tmp_path)
    assert [(e.kind.value, e.get("node"), e.get("lag")) for e in recorded] == [
        ("lag-up", "sea-ms1", "sea-1-a"), ("bgp-configured", "sea-ms1", "sea-1-a")]
    assert recorded[0].get("members_up") == 1
    [(path, argv, env)] = execve.called
    assert (path, argv) == ("/opt/maps-lab/venv/bin/exabgp", [
        "/opt/maps-lab/venv/bin/exabgp", "server", "/maps-lab/lag0/exabgp.conf"])
    # The embedded runtime's ExaBGP environment (emulator.nodes.exabgp), not a copy of it.
    assert env["exabgp_tcp_bind"] == "198.18.0.1 2001:db8:ffff::1"
    assert env["exabgp_log_destination"] == "/var/lib/maps-lab/lag0/exabgp.log"
    assert env["PYTHONPATH"] == str(ROOT)


def test_waits_while_lacp_is_down_and_says_so_once_per_budget(tmp_path, monkeypatch):
    """No clock decides: a budget of 0 s is one look per budget, and `rounds` bounds the
    budgets, so "still waiting" is read from the agent's own record, never from a timeout."""
    monkeypatch.setitem(node_agent.wait.BUDGETS, "lacp_setup", 0.0)
    reads = []
    read = node_agent.procfs.read
    monkeypatch.setattr(node_agent.procfs, "read", lambda *a: reads.append(a) or read(*a))
    execve, said = Exec(), []
    with pytest.raises(WaitTimeout):
        node_agent.run_edge(speaker(tmp_path, "proc-net-bonding-lag0-waiting.txt"), execve,
                            say=said.append, rounds=3)
    assert execve.called == []
    assert len(reads) == 3                  # it went on looking after the first budget ran out
    [timeout] = timeline(tmp_path)          # recorded once, and the automation goes on waiting
    assert (timeout.kind.value, timeout.get("lag"), timeout.get("still_waiting")) == \
        ("lag-timeout", "sea-1-a", True)
    assert "lag0m1: enabled=True collecting=False" in str(timeout.get("last"))
    assert said == ["waiting for LACP on lag0: " + str(timeout.get("last"))]


def test_the_internet_speaker_is_not_gated(tmp_path):
    execve = Exec()
    node_agent.run_edge(speaker(tmp_path, None, lag=None, ifname=None), execve, say=print)
    assert timeline(tmp_path) == [] and len(execve.called) == 1


def test_speaker_round_trips_through_its_json(tmp_path):
    one = speaker(tmp_path, "proc-net-bonding-lag0-up.txt")
    (tmp_path / "speaker.json").write_text(one.json())
    assert EdgeSpeaker.read(tmp_path / "speaker.json") == one


@pytest.mark.skipif(shutil.which("sh") is None or shutil.which("echo") is None,
                    reason="needs sh and echo")
def test_the_rendered_waiter_runs_the_agent(rendered, tmp_path):
    """configure-bgp.sh as rendered, with this checkout's Python for the image's and echo for
    ExaBGP: the agent reads the fixture, records the timeline, then execs 'ExaBGP'."""
    text = (rendered.out_dir / "nodes/sea-ms1/lag0/configure-bgp.sh").read_text()
    spoken = speaker(tmp_path, "proc-net-bonding-lag0-up.txt", exabgp=shutil.which("echo"))
    (tmp_path / "speaker.json").write_text(spoken.json())
    text = (text.replace("/opt/maps-lab/venv/bin/python", sys.executable)
            .replace("/opt/maps-lab/src", str(ROOT))
            .replace("/maps-lab/lag0/speaker.json", str(tmp_path / "speaker.json")))
    (tmp_path / "waiter.sh").write_text(text)
    result = subprocess.run(["sh", str(tmp_path / "waiter.sh")], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "server /maps-lab/lag0/exabgp.conf"
    assert [e.kind.value for e in timeline(tmp_path)] == ["lag-up", "bgp-configured"]


# --- a router program started by its node kind, in the container ------------------------------

@dataclasses.dataclass
class RecordingKind:
    """Stands in for a node kind: records start() instead of starting a program."""

    software: str = "frr"
    config_name: str = "bgpd.conf"
    started: list = dataclasses.field(default_factory=list)

    def __post_init__(self) -> None:
        self.roles = registry.kinds()["frr"].roles

    def start(self, host, plan, node, d) -> None:
        self.started.append((host, plan, node, d, (d / self.config_name).read_bytes()))


def test_start_copies_the_config_byte_for_byte_and_runs_the_kinds_start(seattle, tmp_path,
                                                                        monkeypatch):
    kind = RecordingKind()
    monkeypatch.setitem(registry._KINDS, "frr", kind)
    config = tmp_path / "own.conf"
    config.write_bytes(b"! my own\r\nrouter bgp 64500\n\xff\n")
    instructions = json.loads(json.dumps({"node": "sea-pr1", "config": str(config),
                                          "dir": str(tmp_path / "run"),
                                          "plan": planfile.to_dict(seattle)}))
    node_agent.start_program(instructions)
    [(host, plan, node, d, copied)] = kind.started
    assert isinstance(host, node_agent.InContainer)
    assert (plan, node, d) == (seattle, seattle.node("sea-pr1"), tmp_path / "run")
    assert copied == config.read_bytes()


def test_in_container_host_runs_and_spawns_here(tmp_path):
    host = node_agent.InContainer()
    assert host.run("any", ["echo", "hello"]).stdout == "hello\n"
    pid = host.spawn("any", ["sh", "-c", "echo started"], tmp_path / "log")
    said = node_agent.wait.until("process_exit", (tmp_path / "log").read_text,
                                 lambda text: "" if text else "nothing logged yet")
    assert pid > 0 and said == "started\n"


@pytest.mark.parametrize("topology", TOPOLOGIES, ids=lambda p: p.stem)
def test_the_plan_round_trips_through_json(topology):
    plan = plan_of(topology)
    assert planfile.from_dict(json.loads(json.dumps(planfile.to_dict(plan)))) == plan


def test_the_agent_needs_nothing_the_images_lack():
    """The edge image has the standard library, ExaBGP and pyroute2; the program images only
    the standard library: the agent must import without the project's other libraries."""
    blocked = ("yaml", "pydantic", "matplotlib", "jsonschema", "pyroute2", "exabgp")
    code = ("import sys\n"
            f"for name in {blocked!r}: sys.modules[name] = None\n"
            "import emulator.runtime.containerlab.node_agent\n"
            "import emulator.nodes.fib_sync\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
