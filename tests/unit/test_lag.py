"""LAG drivers without root: OVS output parsing and commands, kernel bond netlink requests."""
from __future__ import annotations

from pathlib import Path

from emulator.runtime.lag.bond import (LACP_COLLECTING, LACP_DISTRIBUTING, LACP_SYNCHRONIZATION,
                               BondLagDriver, bond_request, member_state)
from emulator.runtime.lag.ovs import OvsLagDriver, parse_state
from emulator.topology.loader import load
from emulator.plan.resolve import resolve
from emulator.runtime.fake import FakeRuntime
from tests.conftest import FIXTURES, ROOT

PLAN = resolve(load(ROOT / "topologies" / "seattle.yaml"))
LAG = PLAN.lags[0]


def test_parse_negotiated_ovs_lag():
    state = parse_state("sea-pr1", "lag0", ["lag0m1", "lag0m2"],
                        (FIXTURES / "ovs-bond-show.txt").read_text(),
                        (FIXTURES / "ovs-lacp-show.txt").read_text(), 1.0)
    assert state.up and state.members_up == 2
    assert state.members[0].detail == "current attached"


def test_parse_member_disabled_and_expired():
    bond = (FIXTURES / "ovs-bond-show.txt").read_text().replace(
        "member lag0m2: enabled", "member lag0m2: disabled")
    lacp = (FIXTURES / "ovs-lacp-show.txt").read_text()
    head, tail = lacp.split("member: lag0m2:")
    tail = tail.replace("actor state: activity timeout aggregation synchronized collecting "
                        "distributing", "actor state: activity timeout aggregation expired")
    state = parse_state("sea-pr1", "lag0", ["lag0m1", "lag0m2"], bond,
                        head + "member: lag0m2:" + tail, 1.0)
    assert [m.up for m in state.members] == [True, False]
    assert state.up and state.members_up == 1


def test_parse_nothing_is_down():
    state = parse_state("n", "lag0", ["lag0m1"], "", "", 1.0)
    assert not state.up and state.members[0].detail == "no LACP state"


def test_ovs_driver_builds_one_database_per_router(tmp_path: Path):
    runtime = FakeRuntime()
    driver = OvsLagDriver(runtime, lambda node: tmp_path / node)
    driver.prepare(PLAN.node("sea-pr1"), [LAG])
    runs = runtime.runs("sea-pr1")
    assert runs[0][:2] == ("ovsdb-tool", "create")
    assert str(tmp_path / "sea-pr1" / "ovs" / "conf.db") in runs[0]
    assert runs[1][0] == "ovsdb-server" and "--detach" in runs[1]
    vsctl = runs[2]
    assert vsctl[0] == "ovs-vsctl" and f"--db=unix:{tmp_path}/sea-pr1/ovs/db.sock" in vsctl
    bond = vsctl[vsctl.index("add-bond"):]
    assert bond[:5] == ("add-bond", "lag0", "lag0b", "lag0m1", "lag0m2")
    assert {"lacp=active", "bond_mode=balance-tcp", "other_config:lacp-time=fast",
            "other_config:lacp-fallback-ab=false"} <= set(bond)
    assert "datapath_type=netdev" in vsctl


class RecordingNetlink:
    def __init__(self):
        self.requests = []
        self.indexes = {}

    def link(self, command, **kwargs):
        self.requests.append((command, kwargs))
        if command == "add":
            self.indexes[kwargs["ifname"]] = len(self.indexes) + 10

    def link_lookup(self, ifname):
        return [self.indexes.setdefault(ifname, len(self.indexes) + 10)]

    def get_links(self, ifname=None):
        return []


def test_bond_request_is_8023ad_with_fast_lacp():
    request = bond_request(LAG, "active")
    assert request["kind"] == "bond" and request["bond_mode"] == 4
    assert request["bond_ad_lacp_rate"] == 1 and request["bond_ad_lacp_active"] == 1
    assert bond_request(LAG, "passive")["bond_ad_lacp_active"] == 0


def test_bond_driver_netlink_requests():
    netlink = RecordingNetlink()
    configured = []
    driver = BondLagDriver(lambda node: netlink, lambda n, i, a: configured.append((n, i, a)))
    driver.prepare(PLAN.node("sea-ms1"), [LAG])
    driver.start(PLAN.node("sea-ms1"), [LAG])
    commands = [(c, k.get("ifname"), k.get("state"), k.get("master")) for c, k in netlink.requests]
    bond = netlink.indexes["lag0"]
    m1, m2 = netlink.indexes["lag0m1"], netlink.indexes["lag0m2"]
    assert commands == [
        ("add", "lag0", None, None),
        ("set", None, "down", None), ("set", None, None, bond),
        ("set", None, "down", None), ("set", None, None, bond),
        ("set", None, "up", None), ("set", None, "up", None)]
    assert [k["index"] for c, k in netlink.requests[1:]] == [m1, m1, m2, m2, m1, m2]
    assert configured == [("sea-ms1", "lag0", ["198.18.0.1/31", "2001:db8:ffff::1/127"])]


class Link:
    def __init__(self, attrs):
        self.attrs = attrs

    def get(self, key):
        if key == "IFLA_LINKINFO":
            return {"IFLA_INFO_SLAVE_DATA": {"attrs": self.attrs}}
        return None


def test_bond_member_state_bits():
    both = LACP_COLLECTING | LACP_DISTRIBUTING
    up = member_state("lag0m1", Link([("IFLA_BOND_SLAVE_STATE", 0),
                                      ("IFLA_BOND_SLAVE_MII_STATUS", 0),
                                      ("IFLA_BOND_SLAVE_AD_ACTOR_OPER_PORT_STATE", both | 0x0d),
                                      ("IFLA_BOND_SLAVE_AD_PARTNER_OPER_PORT_STATE",
                                       LACP_SYNCHRONIZATION)]))
    assert up.up and up.partner_synchronized
    down = member_state("lag0m2", Link([("IFLA_BOND_SLAVE_STATE", 1),
                                        ("IFLA_BOND_SLAVE_AD_ACTOR_OPER_PORT_STATE", 0x45)]))
    assert not down.up
    assert member_state("lag0m3", None).up is False


def test_one_read_per_router_splits_every_bond():
    from emulator.runtime.lag.ovs import _per_bond
    bond = (FIXTURES / "ovs-bond-show.txt").read_text()
    lacp = (FIXTURES / "ovs-lacp-show.txt").read_text()
    both = bond + bond.replace("lag0", "lag1")
    sections = _per_bond(both)
    assert sorted(sections) == ["lag0b", "lag1b"]
    state = parse_state("n", "lag1", ["lag1m1", "lag1m2"], sections["lag1b"],
                        _per_bond(lacp + lacp.replace("lag0", "lag1"))["lag1b"], 1.0)
    assert state.members_up == 2
