"""The page's order on fake timelines: every connection Active → register → key → activate →
optimized. Registration alone optimizes nothing; the key binds each prefix to its origin."""
from __future__ import annotations

import json

import pytest

from emulator.core.errors import WorkflowError
from emulator.core.labdir import LabDir
from emulator.edge.agent import AgentConfig, read_policy
from emulator.edge.policy import judge
from emulator.plan.resolve import resolve
from emulator.portal import registration, store, turnup
from emulator.portal.registration import origins
from emulator.topology.loader import load
from tests.conftest import ROOT
from tests.unit.test_workflow import T0, happen, turn_up


@pytest.fixture
def labdir(tmp_path) -> LabDir:
    return LabDir("unit", root=tmp_path)


def edge_policy(labdir: LabDir, plan):
    """The policy an edge agent of this lab reads from peering.json."""
    config = AgentConfig("sea-ms1", "sea-1-a", str(labdir.path / "routes.json"),
                         str(labdir.events_file), [], [], 500,
                         str(labdir.path / "peering.json"), list(plan.microsoft_prefixes))
    return read_policy(config)[0]


def verdicts(labdir: LabDir, plan, peer: int = 64500) -> dict[str, tuple[str, str]]:
    """Each announced prefix as the edge judges it, with the path it arrives with."""
    policy = edge_policy(labdir, plan)
    found = {}
    for prefix, origin in origins(plan).items():
        path = [peer] if origin.asn == peer else [peer, origin.asn]
        v = judge(policy, prefix, path)
        found[prefix] = (v.outcome.value, v.rule)
    return found


def test_registration_needs_every_connection_active_and_names_the_others(labdir):
    topo = load(ROOT / "topologies" / "two-locations.yaml")
    plan = resolve(topo)
    turnup.create(labdir, topo)
    sea = [lag for lag in plan.lags if lag.connection == "sea-1"]
    happen(labdir, T0, "lab-created", lab=plan.lab)
    for i, lag in enumerate(plan.lags):
        happen(labdir, T0 + 1 + i, "ports-configured", node=lag.b_node, lag=lag.name)
    for i, lag in enumerate(sea):           # only sea-1 comes up; sjc-1 waits for LACP
        happen(labdir, T0 + 3 + i, "lag-up", node=lag.b_node, lag=lag.name, members_up=2)
        happen(labdir, T0 + 5 + i, "bgp-configured", node=lag.b_node, lag=lag.name)
    for i, s in enumerate(s for s in plan.sessions if s.lag in {lag.name for lag in sea}):
        happen(labdir, T0 + 7 + i, "bgp-state", node=s.b_node, lag=s.lag, peer=s.a_address,
               state="up")
    with pytest.raises(WorkflowError) as refused:
        registration.register_asn(labdir, plan, "fabrikam-voice", 64501)
    message = str(refused.value)
    assert message.startswith("cannot register AS64501: 1 of 2 connection(s) of peering "
                              "contoso-ix-westcoast not Active yet (connection sjc-1: "), message
    assert "connection sea-1" not in message
    assert "must be Active before registering your ASN" in message
    assert store.read(labdir).registrations == ()


def test_registered_and_not_activated_is_accepted_not_optimized(labdir):
    topo = load(ROOT / "topologies" / "seattle.yaml")
    plan = resolve(topo)
    turnup.create(labdir, topo)
    turn_up(labdir, plan)
    keys = {r.asn: registration.register_asn(labdir, plan, r.name, r.asn)
            .peering_service_prefix_key for r in topo.registered_asns}
    # Every ASN registered, nothing activated: no prefix is optimized (the manual turn-up).
    before = verdicts(labdir, plan)
    assert set(before.values()) == {("not-optimized", "MS-ACTIVATED")}, before
    # Customers activate fabrikam's prefixes with AS64501's key: those, and only those, are.
    for prefix, origin in origins(plan).items():
        if origin.asn == 64501:
            registration.activate_prefix(labdir, plan, prefix, keys[64501])
    after = verdicts(labdir, plan)
    assert {p for p, v in after.items() if v == ("optimized", "MS-OPTIMIZED")} == {
        "198.51.100.0/24", "2001:db8:200::/48"}
    assert {v for p, v in after.items() if p not in ("198.51.100.0/24", "2001:db8:200::/48")} \
        == {("not-optimized", "MS-ACTIVATED")}


def test_peering_json_gives_the_edges_each_prefix_with_its_key(labdir):
    topo = load(ROOT / "topologies" / "seattle.yaml")
    plan = resolve(topo)
    turnup.create(labdir, topo)
    turn_up(labdir, plan)
    key = registration.register_asn(labdir, plan, "fabrikam-voice", 64501) \
        .peering_service_prefix_key
    registration.activate_prefix(labdir, plan, "198.51.100.0/24", key)
    data = json.loads((labdir.path / "peering.json").read_text())
    assert data["prefix_keys"] == {"64501": key}
    assert data["activation_keys"] == {"198.51.100.0/24": key}
    policy = edge_policy(labdir, plan)
    assert policy.activated("198.51.100.0/24", 64501)
    assert not policy.activated("198.51.100.0/24", 64500)   # another origin: another key
