"""A kernel bond's LACP state from /proc/net/bonding, against recorded reports of the kernel."""
from __future__ import annotations

import pytest

from emulator.runtime.lag import procfs
from tests.containerlab.conftest import HERE

FIXTURES = HERE / "fixtures"


def state(fixture: str):
    return procfs.parse("sea-ms1", "lag0", (FIXTURES / fixture).read_text(), observed_at=7.0)


def test_a_member_collecting_and_distributing_makes_the_lag_up():
    lag = state("proc-net-bonding-lag0-up.txt")
    assert (lag.node, lag.ifname, lag.observed_at, lag.up, lag.members_up) == \
        ("sea-ms1", "lag0", 7.0, True, 1)
    first, second = lag.members
    # Port state 63 = Activity..Distributing (IEEE 802.1AX-2014 6.4.2.3 bits 0-5).
    assert (first.ifname, first.enabled, first.collecting, first.distributing,
            first.partner_synchronized) == ("lag0m1", True, True, True, True)
    assert first.detail == "actor 0x3f partner 0x3f"
    # 71 = Activity, Timeout, Aggregation, Defaulted: the partner never answered; aggregator 2
    # is not the active one, so the bond does not forward on it.
    assert (second.ifname, second.up, second.enabled) == ("lag0m2", False, False)
    assert second.detail == "actor 0x47 partner 0x01"


@pytest.mark.parametrize("member, why", [
    # In sync with its partner but not yet collecting or distributing (actor state 15).
    (0, "actor 0x0f partner 0x3f"),
    # Collecting and distributing by its own state, but its link (MII) is down.
    (1, "actor 0x3f partner 0x01"),
])
def test_no_member_up_while_lacp_negotiates(member, why):
    lag = state("proc-net-bonding-lag0-waiting.txt")
    assert not lag.up and lag.members_up == 0
    assert lag.members[member].detail == why and not lag.members[member].up


def test_a_bond_that_is_not_there_yet_has_no_members(tmp_path):
    lag = procfs.read("sea-ms1", "lag0", tmp_path / "missing")
    assert lag.members == () and not lag.up


def test_reads_the_kernels_file(tmp_path):
    report = tmp_path / "lag0"
    report.write_text((FIXTURES / "proc-net-bonding-lag0-up.txt").read_text())
    assert procfs.read("sea-ms1", "lag0", report).members_up == 1
