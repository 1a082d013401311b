"""The turn-up workflow on fake timelines: states, refusals, keys, activation and the emails."""
from __future__ import annotations

import email
import email.policy
import email.utils
import json
import uuid

import pytest

from emulator.cli import portal_views
from emulator.portal import undo
from emulator.portal import declared, provisioning, registration, store, turnup
from emulator.edge.agent import AgentConfig, read_policy
from emulator.edge.policy import Outcome, judge
from emulator.core.errors import WaitTimeout, WorkflowError
from emulator.topology.intent import Prefix, Topology
from emulator.core.labdir import LabDir
from emulator.topology.loader import load
from emulator.observe.timeline import Timeline
from emulator.portal.notify import Milestone
from emulator.plan.resolve import resolve
from emulator.portal.state import ConnectionState, progress
from tests.conftest import ROOT

LONG = "198.51.100.128/25"
T0 = 1_700_000_000.0


def seattle(activated: bool = False, **peering: object) -> Topology:
    """The example topology, with fabrikam also announcing a /25."""
    topo = load(ROOT / "topologies" / "seattle.yaml")
    long = Prefix(prefix=LONG, traffic_class="voice", endpoints="sbc", activated=activated)
    members = [m.model_copy(update={"prefixes": m.prefixes + [long]}) if m.name == "fabrikam"
               else m for m in topo.exchange.members]
    return topo.model_copy(update={
        "exchange": topo.exchange.model_copy(update={"members": members}),
        "peering": topo.peering.model_copy(update=peering)})


class Clock:
    """The workflow's clock: the peering is created before the lab's events, the user acts after."""

    def __init__(self) -> None:
        self.now = T0 - 60

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def clock(monkeypatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(store, "clock", fake)
    return fake


@pytest.fixture
def topo() -> Topology:
    return seattle()


@pytest.fixture
def plan(topo):
    return resolve(topo)


@pytest.fixture
def labdir(tmp_path) -> LabDir:
    return LabDir("unit", root=tmp_path)


def happen(labdir: LabDir, at: float, kind: str, **fields: object) -> None:
    """One event of the lab's timeline, at a chosen time."""
    labdir.path.mkdir(parents=True, exist_ok=True)
    with open(labdir.events_file, "a") as out:
        out.write(json.dumps({"time": at, "kind": kind, **fields}) + "\n")


def turn_up(labdir: LabDir, plan, clock: Clock | None = None, ports: bool = True) -> None:
    """What `mapslab up` records, link by link, until every session is Established."""
    happen(labdir, T0, "lab-created", lab=plan.lab)
    for i, lag in enumerate(plan.lags):
        if ports:
            happen(labdir, T0 + 1 + i, "ports-configured", node=lag.b_node, lag=lag.name)
        happen(labdir, T0 + 3 + i, "lag-up", node=lag.b_node, lag=lag.name, members_up=2)
        happen(labdir, T0 + 5 + i, "bgp-configured", node=lag.b_node, lag=lag.name)
    for i, session in enumerate(s for s in plan.sessions if s.interconnect):
        happen(labdir, T0 + 7 + i, "bgp-state", node=session.b_node, lag=session.lag,
               peer=session.a_address, state="up")
    if clock is not None:
        clock.now = T0 + 60


def states(labdir, plan) -> list[str]:
    found = progress(Timeline.read(labdir), plan)
    return [f"{c.state.value}: {c.detail}" for c in found]


# ---- create ----

def test_create_writes_an_empty_peering_before_any_edge_starts(labdir, topo, plan):
    state = turnup.create(labdir, topo)
    data = json.loads((labdir.path / "peering.json").read_text())
    assert data["registered_asns"] == [] and data["activated_prefixes"] == []
    assert data["peering"]["name"] == "contoso-ix-seattle"
    assert data["peering"]["peerAsn"] == 64500
    assert (data["peering"]["kind"], data["peering"]["directPeeringType"],
            data["peering"]["sku"]) == ("Direct", "IxRs", "Premium_Direct_Free")
    assert state.connections[0].connection_state == "PendingApproval"
    # The edge agent prefers peering.json to its own config: nothing is optimized yet.
    config = AgentConfig("sea-ms1", "sea-1-a", "", "", [64500, 64501], [LONG], 500,
                         str(labdir.path / "peering.json"))
    policy, _ = read_policy(config)
    assert judge(policy, "198.51.100.0/24", [64500, 64501]).outcome is Outcome.NOT_OPTIMIZED
    verdict = judge(policy, LONG, [64500, 64501])
    assert (verdict.outcome, verdict.rule) == (Outcome.REJECTED, "MS-LONG-PREFIX")
    assert [e.milestone for e in store.events(labdir)] == ["peering-created"]


def test_review_refuses_what_the_portal_refuses(labdir):
    topo = seattle(sku="Standard Free", kind="Exchange")
    conn = topo.connections[0].model_copy(update={"session_address_provider": "Microsoft",
                                                  "use_for_peering_service": False})
    with pytest.raises(WorkflowError) as refused:
        turnup.create(labdir, topo.model_copy(update={"connections": [conn]}))
    text = str(refused.value)
    assert "Peering type is 'Exchange'" in text and "'Direct'" in text
    assert "SKU is 'Standard Free'" in text and "'Premium Free'" in text
    assert "connection sea-1: Session Address Provider is 'Microsoft'" in text
    assert "connection sea-1: Use for Peering Service must be enabled" in text
    with pytest.raises(WorkflowError, match="needs at least one"):
        turnup.create(labdir, seattle().model_copy(update={"connections": []}))
    assert not (labdir.path / "peering.json").exists()
    # A rehearsal of a broken turn-up (lab.up(validate_rules=False)) deploys it anyway.
    turnup.create(labdir, topo, validate_rules=False)
    (created,) = store.events(labdir)
    body = (labdir.path / "maildir" / "new" / created.key).read_text()
    assert "Review + create would have refused" in body and "SKU is 'Standard Free'" in body


def test_create_again_keeps_the_peering_and_its_fixed_fields(labdir, topo):
    first = turnup.create(labdir, topo)
    assert turnup.create(labdir, topo) == first
    with pytest.raises(WorkflowError) as refused:
        turnup.create(labdir, seattle(peer_asn=64502, resource_group="rg-other"))
    text = str(refused.value)
    assert "cannot be changed after it was created" in text
    assert "peer ASN 64500 -> 64502" in text and "resource group 'rg-contoso-peering'" in text
    assert len(store.events(labdir)) == 1


# ---- connection states, from the timeline ----

def test_connection_states_follow_the_turn_up(labdir, plan):
    a, b = plan.lags
    sessions = [s for s in plan.sessions if s.interconnect]
    assert states(labdir, plan) == [
        "PendingApproval: waiting for Microsoft's side to be built (the lab is not up)"]
    happen(labdir, T0, "lab-created")
    assert states(labdir, plan) == [
        "Approved: waiting for Microsoft to configure its ports on sea-1-a, sea-1-b"]
    happen(labdir, T0 + 1, "ports-configured", lag=a.name)
    happen(labdir, T0 + 1, "ports-configured", lag=b.name)
    happen(labdir, T0 + 2, "lag-up", lag=a.name)
    assert states(labdir, plan) == [
        "ProvisioningStarted: waiting for LAG up on sea-1-b (LACP collecting and distributing)"]
    happen(labdir, T0 + 3, "lag-up", lag=b.name)
    happen(labdir, T0 + 4, "bgp-configured", lag=a.name)
    assert states(labdir, plan) == [
        "ProvisioningStarted: waiting for the edge automation to configure BGP on sea-1-b"]
    happen(labdir, T0 + 5, "bgp-configured", lag=b.name)
    assert states(labdir, plan) == ["ProvisioningCompleted: waiting for BGP: sea-1-a-v4, "
                                    "sea-1-a-v6, sea-1-b-v4, sea-1-b-v6 not Established (the "
                                    "peer must configure BGP)"]
    for i, s in enumerate(sessions[:3]):
        happen(labdir, T0 + 6 + i, "bgp-state", lag=s.lag, peer=s.a_address, state="up")
    assert states(labdir, plan) == ["Validating: waiting for BGP: sea-1-b-v6 not Established"]
    happen(labdir, T0 + 10, "bgp-state", lag=b.name, peer=sessions[3].a_address, state="up")
    assert states(labdir, plan) == ["Active: "]
    happen(labdir, T0 + 11, "bgp-state", lag=a.name, peer=sessions[0].a_address, state="down")
    assert states(labdir, plan) == ["Validating: waiting for BGP: sea-1-a-v4 not Established"]
    (conn,) = progress(Timeline.read(labdir), plan)
    assert [(m.value, t - T0) for m, t in conn.reached] == [
        ("ports-configured", 1), ("session-addresses", 1), ("lag-up", 3), ("bgp-configured", 5),
        ("sessions-established", 10), ("connection-active", 10)]


def test_without_a_ports_event_the_ports_were_configured_when_the_lag_came_up(labdir, plan):
    turn_up(labdir, plan, ports=False)
    (conn,) = progress(Timeline.read(labdir), plan)
    reached = dict(conn.reached)
    assert reached[Milestone.PORTS_CONFIGURED] == reached[Milestone.LAG_UP] == T0 + 4
    assert conn.state is ConnectionState.ACTIVE


def test_a_lag_that_never_came_up_fails_the_provisioning(labdir, topo, plan):
    turnup.create(labdir, topo)
    happen(labdir, T0, "lab-created")
    a, b = plan.lags
    happen(labdir, T0 + 2, "lag-up", lag=b.name)
    happen(labdir, T0 + 3, "bgp-configured", lag=b.name)
    for i, s in enumerate(s for s in plan.sessions if s.lag == b.name):
        happen(labdir, T0 + 4 + i, "bgp-state", lag=b.name, peer=s.a_address, state="up")
    happen(labdir, T0 + 20, "lag-timeout", lag=a.name, last="lag0m1: collecting=False")
    (conn,) = provisioning.provision(labdir, plan, seconds=0.2)     # settled: no wait
    assert conn.describe() == (
        "connection sea-1: ProvisioningFailed, LAG sea-1-a did not come up in time, so "
        "Microsoft's automation configured no BGP there (`mapslab check` shows why)")
    assert [m.value for m, _ in conn.reached] == ["ports-configured", "session-addresses"]
    result = turnup.turn_up(labdir, plan, topo, "auto")
    assert result.problems == (conn.describe(), "nothing registered: the portal allows "
                               "registration only once every connection of the peering is Active")
    assert result.state.registrations == ()


def test_an_edge_that_does_not_wait_for_lacp_shows_bgp_before_the_lag(labdir, topo, plan):
    """The rehearsal knob `bgp-waits-for-lacp: false`: BGP configured, no LAG ever seen up."""
    turnup.create(labdir, topo)
    happen(labdir, T0, "lab-created")
    for i, lag in enumerate(plan.lags):
        happen(labdir, T0 + 1 + i, "bgp-configured", lag=lag.name, waited_for_lacp=False)
    for i, s in enumerate(s for s in plan.sessions if s.interconnect):
        happen(labdir, T0 + 3 + i, "bgp-state", lag=s.lag, peer=s.a_address, state="up")
    (conn,) = provisioning.provision(labdir, plan, seconds=0.2)
    assert conn.active
    assert [m.value for m, _ in conn.reached] == [
        "ports-configured", "session-addresses", "bgp-configured", "sessions-established",
        "connection-active"]
    happen(labdir, T0 + 30, "lag-state", lag=plan.lags[0].name, side="edge", up=True)
    happen(labdir, T0 + 31, "lag-state", lag=plan.lags[1].name, side="edge", up=True)
    provisioning.sync(labdir, plan)
    assert [d.milestone for d in store.events(labdir)][-2:] == ["connection-active", "lag-up"]


def test_turn_up_in_manual_mode_registers_nothing(labdir, topo, plan):
    turnup.create(labdir, topo)
    turn_up(labdir, plan)
    result = turnup.turn_up(labdir, plan, topo, "manual")
    assert result.problems == () and result.state.registrations == ()
    assert result.summary().startswith("1 of 1 connection(s) Active; 0 ASN(s) registered")
    with pytest.raises(WorkflowError, match="choose auto or manual"):
        turnup.turn_up(labdir, plan, topo, "automatic")


def test_ports_configured_records_one_event_per_link(labdir, plan):
    turnup.ports_configured(labdir, plan)
    assert [(e["kind"], e["lag"], e["node"]) for e in labdir.events()] == [
        ("ports-configured", "sea-1-a", "sea-ms1"), ("ports-configured", "sea-1-b", "sea-ms2")]


# ---- provision ----

def test_provision_waits_for_active_and_says_what_it_waits_for(labdir, topo, plan):
    turnup.create(labdir, topo)
    happen(labdir, T0, "lab-created")
    with pytest.raises(WaitTimeout) as timeout:
        provisioning.provision(labdir, plan, seconds=0.2)
    assert timeout.value.budget == "ebgp_session"
    assert "connection sea-1: Approved, waiting for Microsoft to configure its ports" in str(
        timeout.value)
    turn_up(labdir, plan)
    (conn,) = provisioning.provision(labdir, plan, seconds=0.2)
    assert conn.active
    saved = json.loads((labdir.path / "peering.json").read_text())["connections"]
    assert saved == [{"name": "sea-1", "connectionState": "Active", "detail": "",
                      "sessionAddressProvider": "Peer", "useForPeeringService": True}]


# ---- register ----

def test_registration_is_refused_until_a_connection_is_active(labdir, topo, plan):
    turnup.create(labdir, topo)
    happen(labdir, T0, "lab-created")
    happen(labdir, T0 + 1, "ports-configured", lag="sea-1-a")
    happen(labdir, T0 + 1, "ports-configured", lag="sea-1-b")
    with pytest.raises(WorkflowError) as refused:
        registration.register_asn(labdir, plan, "fabrikam-voice", 64501)
    assert str(refused.value) == (
        "cannot register AS64501: 1 of 1 connection(s) of peering contoso-ix-seattle not Active "
        "yet (connection sea-1: ProvisioningStarted, waiting for LAG up on sea-1-a, sea-1-b (LACP "
        "collecting and distributing)); the page: \"The Connection State of your peering "
        "connections must be Active before registering your ASN\"")
    assert store.read(labdir).registrations == ()
    assert json.loads((labdir.path / "peering.json").read_text())["registered_asns"] == []


def test_registration_issues_a_unique_key_per_asn(labdir, topo, plan):
    turnup.create(labdir, topo)
    turn_up(labdir, plan)
    fabrikam = registration.register_asn(labdir, plan, "fabrikam-voice", 64501)
    contoso = registration.register_asn(labdir, plan, "contoso-ix", 64500)
    assert uuid.UUID(fabrikam.peering_service_prefix_key).version == 4
    assert fabrikam.peering_service_prefix_key != contoso.peering_service_prefix_key
    assert registration.register_asn(labdir, plan, "fabrikam-voice", 64501) == fabrikam
    data = json.loads((labdir.path / "peering.json").read_text())
    assert data["registered_asns"] == [64501, 64500]
    assert data["prefix_keys"] == {"64501": fabrikam.peering_service_prefix_key,
                                   "64500": contoso.peering_service_prefix_key}
    with pytest.raises(WorkflowError, match="already registered as 'fabrikam-voice'"):
        registration.register_asn(labdir, plan, "other", 64501)
    with pytest.raises(WorkflowError, match="that name already registers AS64501"):
        registration.register_asn(labdir, plan, "fabrikam-voice", 65537)
    with pytest.raises(WorkflowError, match=r"AS65000: it is private use \(RFC 6996"):
        registration.register_asn(labdir, plan, "private", 65000)
    with pytest.raises(WorkflowError, match="Microsoft's own ASN"):
        registration.register_asn(labdir, plan, "microsoft", 8075)
    with pytest.raises(WorkflowError, match="name is 1-80 letters"):
        registration.register_asn(labdir, plan, "has space", 65537)


# ---- activate ----

def test_activation_needs_the_key_of_the_prefixes_origin(labdir, topo, plan):
    turnup.create(labdir, topo)
    turn_up(labdir, plan)
    fabrikam = registration.register_asn(labdir, plan, "fabrikam-voice", 64501)
    contoso = registration.register_asn(labdir, plan, "contoso-ix", 64500)
    with pytest.raises(WorkflowError) as refused:
        registration.activate_prefix(labdir, plan, LONG, contoso.peering_service_prefix_key)
    assert str(refused.value) == (
        "cannot activate 198.51.100.128/25: wrong peering service prefix key; "
        "198.51.100.128/25 is originated by AS64501 (member fabrikam) and needs the key issued "
        "when AS64501 was registered as 'fabrikam-voice'")
    with pytest.raises(WorkflowError, match="does not announce it"):
        registration.activate_prefix(labdir, plan, "198.51.100.192/26",
                                 fabrikam.peering_service_prefix_key)
    with pytest.raises(WorkflowError, match=r"origin AS65537 \(member tailspin\) is not a "
                                            r"registered ASN"):
        registration.activate_prefix(labdir, plan, "203.0.113.0/24", "any")
    with pytest.raises(WorkflowError, match="host bits"):
        registration.activate_prefix(labdir, plan, "198.51.100.129/25", "any")
    assert store.read(labdir).prefixes == ()

    activated = registration.activate_prefix(labdir, plan, LONG,
                                             fabrikam.peering_service_prefix_key)
    assert (activated.origin_asn, activated.prefix_validation_state) == (64501, "Verified")
    assert registration.activate_prefix(labdir, plan, LONG,
                                        fabrikam.peering_service_prefix_key) == activated
    config = AgentConfig("sea-ms1", "sea-1-a", "", "", [], [], 500,
                         str(labdir.path / "peering.json"))
    policy, _ = read_policy(config)
    assert judge(policy, LONG, [64500, 64501]).outcome is Outcome.OPTIMIZED


# ---- the automated emails ----

def test_one_rfc5322_message_per_milestone_in_order(labdir, topo, plan, clock):
    turnup.create(labdir, topo)
    turn_up(labdir, plan, clock)
    provisioning.provision(labdir, plan, seconds=0.2)
    key = registration.register_asn(labdir, plan, "fabrikam-voice",
                                    64501).peering_service_prefix_key
    registration.activate_prefix(labdir, plan, LONG, key)
    provisioning.provision(labdir, plan, seconds=0.2)          # nothing new to announce
    delivered = store.events(labdir)
    # Every milestone of a turn-up (undoing one is not part of it: emulator.portal.undo).
    assert [d.milestone for d in delivered] == [m.value for m in Milestone
                                                if m not in undo.MILESTONES]
    assert [d.sequence for d in delivered] == list(range(1, 10))
    assert [d.time for d in delivered] == sorted(d.time for d in delivered)
    assert len({d.message_id for d in delivered}) == 9
    assert {d.to for d in delivered} == {"noc@contoso-ix-seattle.example"}
    assert delivered[6].subject == "[contoso-ix-seattle] Connection sea-1 is Active"
    assert delivered[8].subject == (
        "[contoso-ix-seattle] Prefix 198.51.100.128/25 activated (AS64501)")

    files = sorted((labdir.path / "maildir" / "new").iterdir())
    assert len(files) == 9
    by_sequence = {}
    for path in files:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for header in ("From", "To", "Subject", "Date", "Message-ID"):
            assert message[header], (path, header)
        assert email.utils.parsedate_to_datetime(message["Date"]).tzinfo is not None
        assert message["From"].addresses[0].addr_spec == "noreply@unit.mapslab.example"
        by_sequence[int(message["X-Mapslab-Sequence"])] = message
    assert key in by_sequence[8].get_content()
    assert "198.18.0.0/31" in by_sequence[3].get_content()        # session addresses
    milestones = json.loads((labdir.path / "peering.json").read_text())["milestones"]
    assert [m["about"] for m in milestones][6:] == ["sea-1", "AS64501", LONG]
    assert "connection-active" in portal_views.render_events(delivered)


# ---- auto mode ----

def write_routes(labdir, plan, outcome: str, rule: str = "") -> None:
    lag = plan.lags[0]
    d = labdir.path / "nodes" / lag.b_node / lag.ifname
    d.mkdir(parents=True, exist_ok=True)
    (d / "routes.json").write_text(json.dumps({"peers": {"198.18.0.0": {LONG: {
        "as_path": [64500, 64501], "outcome": outcome, "rule": rule}}}}))


def test_apply_declared_gives_the_declared_intent(labdir, plan):
    topo = seattle(activated=True)
    plan = resolve(topo)
    turnup.create(labdir, topo)
    turn_up(labdir, plan)
    state = declared.apply(labdir, plan, topo)
    assert state.registered_asns == [64500, 64501, 65537]
    # Every prefix the topology declares `activated: true`, the /25 among them.
    assert state.activated_prefixes == list(plan.activated_prefixes)
    assert LONG in state.activated_prefixes
    assert state.prefix(LONG).peering_service_prefix_key == state.registration_of(
        64501).peering_service_prefix_key
    assert declared.apply(labdir, plan, topo) == state


def test_settle_waits_until_the_edges_judged_under_the_new_registrations(labdir, topo, plan):
    turnup.create(labdir, topo)
    turn_up(labdir, plan)
    key = registration.register_asn(labdir, plan, "fabrikam-voice",
                                    64501).peering_service_prefix_key
    registration.activate_prefix(labdir, plan, LONG, key)
    write_routes(labdir, plan, "rejected", "MS-LONG-PREFIX")
    with pytest.raises(WaitTimeout) as timeout:
        registration.wait_edges_judged(labdir, plan, seconds=0.2)
    assert "sea-ms1 (sea-1-a) 198.51.100.128/25: rejected (MS-LONG-PREFIX), expected optimized " \
        "(MS-OPTIMIZED)" in str(timeout.value)
    write_routes(labdir, plan, "optimized", "MS-OPTIMIZED")
    registration.wait_edges_judged(labdir, plan, seconds=0.2)


def test_status_shows_connections_keys_and_prefixes(labdir, topo, plan):
    turnup.create(labdir, topo)
    turn_up(labdir, plan)
    key = registration.register_asn(labdir, plan, "fabrikam-voice",
                                    64501).peering_service_prefix_key
    text = portal_views.render_status(*provisioning.status(labdir, plan))
    assert "sea-1        Active" in text
    assert f"fabrikam-voice       AS64501      key {key}" in text
    assert "activated prefixes: none" in text


def test_addresses_are_reserved_example_domains():
    from emulator.portal import notify
    assert notify.contact("Contoso IX (Seattle)") == "noc@contoso-ix-seattle.example"
    assert notify.sender("seattle") == (
        "Azure Peering Service (lab seattle) <noreply@seattle.mapslab.example>")
