"""lacp-mismatch through Open vSwitch, without root: the commands that regroup one member, and
the member's state read from what `ovs-appctl` printed during a real mismatch (tests/fixtures/
ovs-mismatch-*.txt, from the seattle lab: sea-pr1 the peer side, sea-ms1 the edge side)."""
from __future__ import annotations

import subprocess

import pytest

from emulator.core.errors import CommandFailed
from emulator.plan.resolve import resolve
from emulator.runtime.fake import FakeRuntime
from emulator.runtime.lag import ovs
from emulator.topology.loader import load
from tests.conftest import ROOT

FIXTURES = ROOT / "tests" / "fixtures"
EDGE_SYSTEM = "86:5c:3a:a3:74:47"     # sea-ms1's LACP System ID in the recordings


def fixture(name: str) -> str:
    return (FIXTURES / f"ovs-mismatch-{name}.txt").read_text()


@pytest.fixture
def lag():
    return resolve(load(ROOT / "topologies" / "seattle.yaml")).lags[0]


class Vsctl(FakeRuntime):
    """Records runs; answers `list-ifaces` with the bridge's interfaces."""

    def __init__(self, ifaces: str):
        super().__init__()
        self.ifaces = ifaces

    def run(self, node, argv, check=True, timeout=30.0):
        super().run(node, argv, check, timeout)
        out = self.ifaces if "list-ifaces" in argv else ""
        return subprocess.CompletedProcess(list(argv), 0, out, "")


def driver(runtime, tmp_path, monkeypatch, lacp_show: str) -> ovs.OvsLagDriver:
    monkeypatch.setattr(ovs.unixctl, "call", lambda ctl, method, *args: lacp_show)
    return ovs.OvsLagDriver(runtime, lambda node: tmp_path / node)


def test_the_member_moves_to_a_port_that_reports_the_partners_own_system(
        lag, tmp_path, monkeypatch):
    runtime = Vsctl("lag0m1\nlag0m2\n")
    lacp = driver(runtime, tmp_path, monkeypatch, fixture("peer-lacp-show-before"))
    assert lacp.mismatch_member("sea-pr1", lag, "lag0m1") == EDGE_SYSTEM
    transaction = runtime.runs("sea-pr1")[-1]
    assert transaction[:3] == ("ovs-vsctl", f"--db=unix:{tmp_path}/sea-pr1/ovs/db.sock",
                               "--timeout=10")
    assert " ".join(transaction[3:]) == (
        "-- --id=@old get interface lag0m1 -- remove port lag0b interfaces @old "
        "-- add-br lag0x -- set bridge lag0x datapath_type=netdev -- add-port lag0x lag0m1 "
        "-- set port lag0m1 lacp=active other_config:lacp-time=fast "
        f"other_config:lacp-system-id={EDGE_SYSTEM} other_config:lacp-fallback-ab=false")


def test_injecting_twice_and_restoring_twice_change_nothing_more(lag, tmp_path, monkeypatch):
    moved = Vsctl("lag0m2\n")                    # lag0m1 is out of the bridge already
    lacp = driver(moved, tmp_path, monkeypatch, fixture("peer-lacp-show"))
    assert lacp.mismatch_member("sea-pr1", lag, "lag0m1") == ""
    assert [r[3] for r in moved.runs()] == ["list-ifaces"]
    lacp.restore_member("sea-pr1", lag, "lag0m1")
    assert " ".join(moved.runs()[-1][3:]) == (
        "-- --if-exists del-br lag0x -- --id=@new create interface name=lag0m1 "
        "-- add port lag0b interfaces @new")
    back = Vsctl("lag0m1\nlag0m2\n")
    driver(back, tmp_path, monkeypatch, "").restore_member("sea-pr1", lag, "lag0m1")
    assert [r[3] for r in back.runs()] == ["list-ifaces"]


def test_a_member_without_a_partner_is_refused(lag, tmp_path, monkeypatch):
    lacp = driver(Vsctl("lag0m1\nlag0m2\n"), tmp_path, monkeypatch,
                  fixture("peer-lacp-show-before").replace(EDGE_SYSTEM, "00:00:00:00:00:00"))
    with pytest.raises(CommandFailed, match="no LACP partner known on lag0m1"):
        lacp.mismatch_member("sea-pr1", lag, "lag0m1")


def test_selection_left_the_member_out_on_both_ends():
    edge = ovs.parse_state("sea-ms1", "lag0", ["lag0m1", "lag0m2"], fixture("edge-bond-show"),
                           fixture("edge-lacp-show"), 1.0)
    assert [(m.ifname, m.up) for m in edge.members] == [("lag0m1", False), ("lag0m2", True)]
    assert "detached" in edge.members[0].detail
    # The peer's bundle has one interface left: no bond to Open vSwitch (`bond/show lag0b`:
    # "no such bond"), LACP's may_enable says it forwards; the moved member is not in it.
    peer = ovs.parse_state("sea-pr1", "lag0", ["lag0m1", "lag0m2"], "",
                           fixture("peer-lacp-show"), 1.0)
    assert [(m.ifname, m.up) for m in peer.members] == [("lag0m1", False), ("lag0m2", True)]
    assert peer.up and peer.members_up == 1
    assert ovs.partner_system(fixture("edge-lacp-show"), "lag0m1") == EDGE_SYSTEM
