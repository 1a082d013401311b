"""One ExaBGP per Microsoft edge: what its configuration holds before and after the edge
automation configures a link, and what a reload is sent to."""
from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from emulator.core import wait
from emulator.nodes import edge_bgp
from emulator.plan.resolve import resolve
from emulator.topology.loader import load

ROOT = Path(__file__).resolve().parents[2]
PLAN = resolve(load(ROOT / "topologies" / "seattle.yaml"))
EDGE = PLAN.node("sea-ms1")
LAG = PLAN.lags_of("sea-ms1")[0]


def _neighbors(conf: str) -> list[str]:
    return [line.split()[1] for line in conf.splitlines() if line.startswith("neighbor ")]


def test_before_the_lag_the_speaker_has_its_agent_and_the_internet_only(tmp_path):
    conf = edge_bgp.render(PLAN, EDGE, tmp_path, edge_bgp.SpeakerState())
    internet = [s.b_address for s in PLAN.sessions_of("sea-ms1") if s.lag is None]
    assert internet and _neighbors(conf) == internet
    assert f"process agent-{LAG.ifname} {{" in conf
    assert f"emulator.edge.agent {tmp_path / LAG.ifname / 'agent.json'};" in conf
    assert "listen 179;" not in conf and "processes [" not in conf


def test_a_configured_link_adds_its_neighbors_listening_with_their_agent(tmp_path):
    conf = edge_bgp.render(PLAN, EDGE, tmp_path, edge_bgp.SpeakerState(links=[LAG.name]))
    link = [s.a_address for s in PLAN.sessions if s.lag == LAG.name]
    assert sorted(link) == ["198.18.0.0", "2001:db8:ffff::"]
    assert set(link) <= set(_neighbors(conf))
    block = conf[conf.index("neighbor 198.18.0.0 {"):]
    block = block[:block.index("\n}\n")]
    assert f"processes [ agent-{LAG.ifname} ];" in block and "listen 179;" in block
    assert "local-as 8075;" in block and "unicast 20." in conf


def test_announce_overrides_what_the_internet_hears_and_none_restores_it(tmp_path, monkeypatch):
    (tmp_path / "exabgp").mkdir()
    signals = []
    monkeypatch.setattr(edge_bgp, "running_pid", lambda d: 4242)
    monkeypatch.setattr("os.kill", lambda pid, sig: signals.append((pid, sig)))
    edge_bgp.announce(PLAN, EDGE, tmp_path, internet=("192.0.2.0/24",))
    conf = (tmp_path / "exabgp" / "exabgp.conf").read_text()
    assert "unicast 192.0.2.0/24 next-hop self;" in conf and PLAN.microsoft_prefixes[0] not in conf
    edge_bgp.announce(PLAN, EDGE, tmp_path, internet=None)
    conf = (tmp_path / "exabgp" / "exabgp.conf").read_text()
    assert "192.0.2.0/24" not in conf and PLAN.microsoft_prefixes[0] in conf
    assert signals == [(4242, signal.SIGUSR1)] * 2


def test_set_link_keeps_other_state_and_refuses_a_speaker_that_is_not_running(tmp_path):
    (tmp_path / "exabgp").mkdir()
    edge_bgp.SpeakerState(links=[], internet=["192.0.2.0/24"]).write(tmp_path)
    with pytest.raises(ProcessLookupError):
        edge_bgp.set_link(PLAN, EDGE, tmp_path, LAG, configured=True)
    state = edge_bgp.SpeakerState.read(tmp_path)
    assert state.links == [LAG.name] and state.internet == ["192.0.2.0/24"]


def test_running_pid_names_only_the_process_of_this_speakers_configuration(tmp_path):
    (tmp_path / "exabgp").mkdir()
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    mine = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)",
                             str(tmp_path / "exabgp" / "exabgp.conf")])
    try:
        # A process's arguments show in /proc only once its exec is complete, a moment after
        # Popen returns.
        for proc in (other, mine):
            wait.until("daemon_socket", lambda: Path(f"/proc/{proc.pid}/cmdline").read_bytes(),
                       lambda cmdline: "" if cmdline else f"pid {proc.pid}: no arguments yet")
        edge_bgp.pid_file(tmp_path).write_text(f"{other.pid}\n")
        assert edge_bgp.running_pid(tmp_path) is None       # a reused pid is not the speaker
        edge_bgp.pid_file(tmp_path).write_text(f"{mine.pid}\n")
        assert edge_bgp.running_pid(tmp_path) == mine.pid
        assert edge_bgp.stop(tmp_path) and mine.wait(timeout=5) == -signal.SIGKILL
        assert not edge_bgp.pid_file(tmp_path).exists() and not edge_bgp.stop(tmp_path)
    finally:
        for proc in (other, mine):
            proc.kill()
            proc.wait()


def test_ready_once_every_agent_wrote_its_routes(tmp_path):
    assert not edge_bgp.ready(PLAN, EDGE, tmp_path)
    (tmp_path / LAG.ifname).mkdir()
    (tmp_path / LAG.ifname / "routes.json").write_text("{}")
    assert edge_bgp.ready(PLAN, EDGE, tmp_path)


# A stand-in for a speaker that drops its first reload, as ExaBGP 5.0.15 does when a reload is
# asked for while an Established peer still has updates to send; the second one it performs.
DROPS_FIRST_RELOAD = """
import signal, sys, time
log, asked = sys.argv[2], []
def reload(*_):
    asked.append(1)
    if len(asked) == 2:
        with open(log, "a") as f:
            f.write("reactor         loaded new configuration successfully\\n")
signal.signal(signal.SIGUSR1, reload)
print("ready", flush=True)
time.sleep(60)
"""


def test_a_dropped_reload_is_asked_for_again(tmp_path, monkeypatch):
    (tmp_path / "exabgp").mkdir()
    conf, log = tmp_path / "exabgp" / "exabgp.conf", tmp_path / "exabgp" / "exabgp.log"
    log.write_text("reactor         loaded new configuration successfully\n")   # the start's
    monkeypatch.setattr(edge_bgp, "RELOAD_RESEND", 0.2)
    speaker = subprocess.Popen([sys.executable, "-c", DROPS_FIRST_RELOAD, str(conf), str(log)],
                               stdout=subprocess.PIPE, text=True)
    try:
        assert speaker.stdout.readline().strip() == "ready"
        edge_bgp.pid_file(tmp_path).write_text(f"{speaker.pid}\n")
        edge_bgp._reload(tmp_path)
        assert log.read_text().count("loaded new configuration") == 2
    finally:
        speaker.kill()
        speaker.wait()
