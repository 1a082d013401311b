"""Lifecycle: nothing is ever left behind, even after a killed controller or a bad file."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from pyroute2 import IPRoute

from emulator.lab import lifecycle as lab_module
from emulator.core.errors import WaitTimeout
from tests.integration.conftest import topology_copy
from tests.integration.progress import lines_until

pytestmark = pytest.mark.integration
MAPSLAB = str(Path(sys.executable).with_name("mapslab"))
UP_BUDGET = 120.0          # one `mapslab up` of the one-location lab, with room for a busy host


def host_links() -> set[str]:
    with IPRoute() as ipr:
        return {link.get("ifname") for link in ipr.get_links()}


@pytest.mark.parametrize("kill_after", ["nodes (network namespaces)", "LAGs configured",
                                        "FRR on peer routers", "BGP sessions Established"])
def test_sigkill_mid_up_then_down_leaves_nothing(tmp_path, kill_after):
    name = "itkill"
    lab_module.down(name)
    before = host_links()
    path = topology_copy(tmp_path, name)
    proc = subprocess.Popen([MAPSLAB, "up", str(path)], stdout=subprocess.PIPE, text=True,
                            start_new_session=True, stdin=subprocess.DEVNULL)
    try:
        # The budget holds even if `up` prints nothing (a reader thread, not a per-line check).
        seen = lines_until(proc, lambda lines: any(kill_after in line for line in lines),
                           UP_BUDGET)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        proc.stdout.close()
    assert any(kill_after in line for line in seen), seen
    assert lab_module.leftovers(name), "the killed controller should have left a lab to remove"
    down = subprocess.run([MAPSLAB, "down", name], capture_output=True, text=True, timeout=60)
    assert down.returncode == 0, down.stderr
    assert lab_module.leftovers(name) == []
    assert host_links() == before
    again = subprocess.run([MAPSLAB, "down", name], capture_output=True, text=True, timeout=60)
    assert again.returncode == 0 and "nothing to remove" in again.stdout


def test_bad_topology_creates_nothing(tmp_path):
    name = "itbad"
    path = topology_copy(tmp_path, name)
    path.write_text(path.read_text().replace("name: sea-pr2\n", "name: sea-peer-router-two\n"))
    result = subprocess.run([MAPSLAB, "up", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert f"{path}:" in result.stderr
    assert "routers[1].name" in result.stderr and "1-15 characters" in result.stderr
    assert lab_module.leftovers(name) == []


def test_second_lab_of_the_same_name_is_refused(tmp_path):
    name = "itdup"
    lab_module.down(name)
    path = topology_copy(tmp_path, name)
    running = lab_module.up(path)
    try:
        result = subprocess.run([MAPSLAB, "up", str(path)], capture_output=True, text=True,
                                timeout=60)
        assert result.returncode == 1
        assert "already up" in result.stderr
        # The refused attempt did not harm the running lab.
        assert lab_module.open_lab(name).plan.lab == name
        assert any(x.startswith("directory") for x in lab_module.leftovers(name))
    finally:
        running.close()
        lab_module.down(name)
    assert lab_module.leftovers(name) == []


def test_failed_up_removes_what_it_built(tmp_path, monkeypatch):
    name = "itfail"
    lab_module.down(name)
    path = topology_copy(tmp_path, name)
    # Prefixes that never arrive make `up` fail half-way, every daemon running (a zero budget
    # for the sessions is not enough: they may all be Established at the first look).
    from emulator.lab import automation

    def never(lab, skip_lags=frozenset()):
        raise WaitTimeout("prefixes", 0.0, None, "no prefix anywhere (this test's own)")
    monkeypatch.setattr(automation, "wait_prefixes", never)
    with pytest.raises(WaitTimeout, match="prefixes"):
        lab_module.up(path)
    assert lab_module.leftovers(name) == []
