"""Rehearsal without root: the turn-up's steps and holds, the portal under a hold, checks that
say "not yet", undoing registrations, LACP change requests, `exec` argv, and the `--format json`
outputs validated against their shipped schemas."""
from __future__ import annotations

import dataclasses
import json
from types import SimpleNamespace

import jsonschema
import pytest

from emulator.cli import main, schemas
from emulator.core import hold as holds
from emulator.core import labdir as labdir_module
from emulator.core.errors import UsageError, WorkflowError
from emulator.core.hold import Step
from emulator.core.labdir import LabDir, LabState
from emulator.judge import staged
from emulator.lab import inside
from emulator.observe import holds as held_spans
from emulator.observe.timeline import Timeline
from emulator.plan.model import Role
from emulator.plan.resolve import resolve
from emulator.portal import registration, store, turnup, undo
from emulator.portal.state import ConnectionState, progress
from emulator.runtime.lag import change as lag_change
from emulator.runtime.lag.ovs import OvsLagDriver
from emulator.topology.loader import load
from tests.conftest import ROOT

T0 = 1_700_000_000.0


@pytest.fixture
def topo():
    return load(ROOT / "topologies" / "seattle.yaml")


@pytest.fixture
def plan(topo):
    return resolve(topo)


@pytest.fixture
def labdir(tmp_path) -> LabDir:
    return LabDir("unit", root=tmp_path)


def happen(labdir: LabDir, at: float, kind: str, **fields: object) -> None:
    labdir.path.mkdir(parents=True, exist_ok=True)
    with open(labdir.events_file, "a") as out:
        out.write(json.dumps({"time": at, "kind": kind, **fields}) + "\n")


def established(labdir: LabDir, plan, at: float) -> None:
    """Ports, LAGs, BGP and every interconnect session, as `up` records them."""
    happen(labdir, T0, "lab-created", lab=plan.lab)
    for lag in plan.lags:
        happen(labdir, T0 + 1, "ports-configured", node=lag.b_node, lag=lag.name)
        happen(labdir, T0 + 2, "lag-up", node=lag.b_node, lag=lag.name, members_up=2)
        happen(labdir, T0 + 3, "bgp-configured", node=lag.b_node, lag=lag.name)
    for session in (s for s in plan.sessions if s.interconnect):
        happen(labdir, at, "bgp-state", node=session.b_node, lag=session.lag,
               peer=session.a_address, state="up")


# ---- the steps and the hold ----

def test_steps_are_in_the_pages_order_not_the_alphabets():
    assert [s.value for s in holds.ORDER] == [
        "ports-configured", "lag-up", "bgp-configured", "sessions-established",
        "connection-active", "asn-registered", "prefix-activated"]
    assert Step.LAG_UP < Step.BGP_CONFIGURED < Step.ASN_REGISTERED
    assert not Step.PREFIX_ACTIVATED < Step.CONNECTION_ACTIVE
    assert holds.following(None) is Step.PORTS_CONFIGURED
    assert holds.following(Step.PREFIX_ACTIVATED) is None


def test_a_step_name_is_checked_and_manual_turn_up_keeps_its_own_steps():
    assert holds.parse_step("lag-up") is Step.LAG_UP
    with pytest.raises(UsageError, match="the steps, in the page's order: ports-configured"):
        holds.parse_step("lag")
    with pytest.raises(UsageError, match="with --turnup manual"):
        holds.parse_step("asn-registered", "manual")


def test_the_hold_says_which_steps_the_automation_may_take(tmp_path):
    assert holds.read(tmp_path) == holds.Hold()              # a lab never held
    written = holds.write(tmp_path, holds.held("manual", Step.LAG_UP, (holds.PEER_BGP,)))
    found = holds.read(tmp_path)
    assert found == written and found.step is Step.LAG_UP
    assert found.allows(Step.LAG_UP) and not found.allows(Step.BGP_CONFIGURED)
    assert found.last_step() is Step.CONNECTION_ACTIVE
    assert holds.Hold().allows(Step.PREFIX_ACTIVATED)


# ---- the portal under a hold ----

def test_a_connection_is_not_active_while_the_turn_up_is_held_before_it(labdir, plan):
    established(labdir, plan, T0 + 5)
    happen(labdir, T0 + 6, "turnup-held", step="sessions-established")
    found = progress(Timeline.read(labdir), plan)[0]
    assert found.state is ConnectionState.VALIDATING
    assert "held at sessions-established" in found.detail
    happen(labdir, T0 + 9, "turnup-continued", step="sessions-established",
           to="connection-active")
    happen(labdir, T0 + 10, "turnup-held", step="connection-active")
    found = progress(Timeline.read(labdir), plan)[0]
    assert found.state is ConnectionState.ACTIVE
    # Active when the hold before it was released, not when the sessions came up.
    assert dict(found.reached)[turnup.Milestone.CONNECTION_ACTIVE] == T0 + 9


def test_without_a_hold_a_connection_is_active_when_its_sessions_are(labdir, plan):
    established(labdir, plan, T0 + 5)
    found = progress(Timeline.read(labdir), plan)[0]
    assert found.state is ConnectionState.ACTIVE
    assert held_spans.held_at(Timeline.read(labdir)) is None
    assert held_spans.active_from(Timeline.read(labdir), T0 + 5) == T0 + 5


def test_registration_is_refused_at_a_hold_before_active(labdir, topo, plan):
    turnup.create(labdir, topo)
    established(labdir, plan, T0 + 5)
    happen(labdir, T0 + 6, "turnup-held", step="sessions-established")
    with pytest.raises(WorkflowError, match="not Active yet"):
        registration.register_asn(labdir, plan, "fabrikam-voice", 64501)


# ---- checks that cannot be judged yet ----

def test_a_check_before_its_step_says_what_is_not_there_yet():
    assert staged.not_yet("mesh-formed", Step.PORTS_CONFIGURED) == \
        "the LAG is not up (the turn-up is held at ports-configured)"
    assert staged.not_yet("lag-before-bgp", Step.LAG_UP).startswith(
        "Microsoft's edge has not configured BGP")
    assert staged.not_yet("max-prefix", Step.BGP_CONFIGURED).startswith(
        "the BGP sessions are not Established")
    assert staged.not_yet("peer-devices", Step.PORTS_CONFIGURED) == ""
    assert staged.not_yet("mesh-formed", Step.SESSIONS_ESTABLISHED) == ""
    assert staged.not_yet("mesh-formed", None) == ""


def test_staged_checks_run_what_can_be_judged_and_fail_only_on_a_judged_failure(
        tmp_path, monkeypatch):
    calls = []

    def judged(name, passed):
        def check(lab):
            calls.append(name)
            return staged.Verdict(name, passed, "judged")
        return check
    monkeypatch.setattr(staged.checks, "CHECKS", {"peer-devices": judged("peer-devices", False),
                                                  "mesh-formed": judged("mesh-formed", True)})
    holds.write(tmp_path, holds.held("auto", Step.LAG_UP))
    lab = SimpleNamespace(dir=SimpleNamespace(path=tmp_path))
    verdicts = staged.run_all(lab)
    assert calls == ["peer-devices"]
    assert [staged.result(v) for v in verdicts] == ["fail", "not-yet"]
    assert [v.check for v in staged.failed(verdicts)] == ["peer-devices"]
    assert "NOT YET mesh-formed" in staged.render(verdicts)
    data = staged.to_json("unit", verdicts, Step.LAG_UP)
    jsonschema.validate(data, schemas.schema("check"))
    assert not data["passed"]


# ---- undoing registrations ----

def active_peering(labdir, topo, plan):
    turnup.create(labdir, topo)
    established(labdir, plan, T0 + 5)
    fabrikam = registration.register_asn(labdir, plan, "fabrikam-voice", 64501)
    registration.activate_prefix(labdir, plan, "198.51.100.0/24",
                                 fabrikam.peering_service_prefix_key)
    return fabrikam


def test_deactivate_then_deregister_each_an_email(labdir, topo, plan):
    active_peering(labdir, topo, plan)
    with pytest.raises(WorkflowError, match="198.51.100.0/24 is activated with its prefix key"):
        undo.deregister_asn(labdir, plan, "fabrikam-voice")
    sent = len(store.events(labdir))
    undo.deactivate_prefix(labdir, plan, "198.51.100.0/24")
    undo.deregister_asn(labdir, plan, "fabrikam-voice")
    state = store.require(labdir)
    assert state.registrations == () and state.prefixes == ()
    data = json.loads(store.peering_file(labdir).read_text())
    assert data["registered_asns"] == [] and data["activated_prefixes"] == []   # the edge reads
    mails = store.events(labdir)[sent:]
    assert [m.milestone for m in mails] == ["prefix-deactivated", "asn-deregistered"]
    assert "deactivated" in mails[0].subject and "AS64501" in mails[1].subject


def test_undo_refuses_what_is_not_there(labdir, topo, plan):
    active_peering(labdir, topo, plan)
    with pytest.raises(WorkflowError, match="no registered ASN of that name"):
        undo.deregister_asn(labdir, plan, "nobody")
    with pytest.raises(WorkflowError, match="not an activated prefix"):
        undo.deactivate_prefix(labdir, plan, "203.0.113.0/24")
    with pytest.raises(WorkflowError, match="host bits"):
        undo.deactivate_prefix(labdir, plan, "198.51.100.1/24")


# ---- LACP changed in place: the requests ----

class RecordingNetlink:
    def __init__(self):
        self.calls = []

    def link(self, command, **kwargs):
        self.calls.append((command, kwargs))

    def link_lookup(self, **kwargs):
        return [7]


def test_kernel_bond_changes_are_one_netlink_request_each(plan):
    lag = plan.lags[0]
    netlink = RecordingNetlink()
    driver = SimpleNamespace(netlink_for=lambda node: netlink)
    lag_change.apply(driver, lag.a_node, lag, "lacp", "passive")
    lag_change.apply(driver, lag.a_node, lag, "rate", "slow")
    assert netlink.calls == [("set", {"index": 7, "kind": "bond", "bond_ad_lacp_active": 0}),
                             ("set", {"index": 7, "kind": "bond", "bond_ad_lacp_rate": 0})]
    with pytest.raises(UsageError, match="always runs LACP"):
        lag_change.apply(driver, lag.a_node, lag, "lacp", "off")
    with pytest.raises(UsageError, match="choose fast, slow"):
        lag_change.apply(driver, lag.a_node, lag, "rate", "medium")


class RecordingRuntime:
    def __init__(self, modes):
        self.runs, self.modes = [], modes

    def run(self, node, argv, check=True, timeout=30.0):
        self.runs.append((node, tuple(argv[3:])))
        return SimpleNamespace(stdout=self.modes.get(node, "active") + "\n", returncode=0)


def test_ovs_changes_set_the_bond_port_and_restart_a_passive_pair(plan, tmp_path):
    lag = plan.lags[0]
    runtime = RecordingRuntime({lag.b_node: "passive"})
    driver = OvsLagDriver(runtime, lambda node: tmp_path / node)
    lag_change.apply(driver, lag.a_node, lag, "rate", "slow")
    assert runtime.runs[-1] == (lag.a_node, ("set", "port", "lag0b", "other_config:lacp-time=slow"))
    runtime.runs.clear()
    lag_change.apply(driver, lag.a_node, lag, "lacp", "passive")
    sets = [(node, args[3]) for node, args in runtime.runs if args[0] == "set"]
    # IEEE 802.1AX-2014 6.4.13: both ends passive, so both restart and wait for each other.
    assert sets == [(lag.a_node, "lacp=passive"), (lag.a_node, "lacp=off"),
                    (lag.b_node, "lacp=off"), (lag.a_node, "lacp=passive"),
                    (lag.b_node, "lacp=passive")]
    off = lag_change.ovs_lacp(driver, lag.a_node, lag, "off")
    assert "bond_mode=active-backup" in off


# ---- exec: the argv per kind of node ----

def test_exec_opens_each_programs_own_cli_with_the_labs_sockets(plan, tmp_path):
    nodes = {n.name: n for n in plan.nodes}
    softwares = {"sea-pr1": "openbgpd", "sea-pr2": "gobgp"}
    changed = dataclasses.replace(plan, nodes=tuple(
        dataclasses.replace(n, software=softwares.get(n.name, n.software)) for n in plan.nodes))
    lab = SimpleNamespace(plan=changed, node_dir=lambda node: tmp_path / node)
    ns = f"ml-{plan.lab}-"
    assert inside.argv(lab, "sea-pr1", [])[4:6] == ["bgpctl", "-s"]
    assert inside.argv(lab, "sea-pr2", []) == ["ip", "netns", "exec", ns + "sea-pr2", "gobgp",
                                               "--target", f"unix://{tmp_path}/sea-pr2/api.sock",
                                               "neighbor"]
    assert inside.argv(lab, "rs", [])[4:] == ["birdc", "-s", f"{tmp_path}/rs/bird.ctl"]
    frr = SimpleNamespace(plan=plan, node_dir=lambda node: tmp_path / node)
    assert inside.argv(frr, "sea-pr1", [])[4:] == ["vtysh", "--vty_socket",
                                                   f"{tmp_path}/sea-pr1"]
    edge = next(n for n in nodes.values() if n.role is Role.EDGE).name
    assert inside.argv(frr, edge, [])[5:] == [] and inside.argv(frr, edge, [])[4].endswith("sh")
    assert inside.argv(frr, "rs", ["ip", "link"])[4:] == ["ip", "link"]
    with pytest.raises(UsageError, match="no node 'nope'"):
        inside.argv(frr, "nope", [])


# ---- JSON outputs against their schemas ----

@pytest.fixture
def running_lab(tmp_path, monkeypatch, topo, plan):
    """A lab's directory as `up` leaves it (peering, timeline, emails), without namespaces."""
    monkeypatch.setattr(labdir_module, "RUN_ROOT", tmp_path)
    labdir = LabDir(plan.lab)
    labdir.write_state(LabState(plan.lab, "t.yaml", "netns"))
    (labdir.path / "topology.yaml").write_text((ROOT / "topologies" / "seattle.yaml").read_text())
    active_peering(labdir, topo, plan)
    happen(labdir, T0 + 20, "turnup-held", step="asn-registered")
    holds.write(labdir.path, holds.held("auto", Step.ASN_REGISTERED))
    return plan.lab


def run_json(capsys, *argv: str):
    assert main.main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_peering_events_and_timeline_json_fit_their_schemas(running_lab, capsys):
    peering = run_json(capsys, "peering", running_lab, "--format", "json")
    jsonschema.validate(peering, schemas.schema("peering"))
    assert peering["held_at"] == "asn-registered"
    assert peering["registered_asns"][0]["peering_service_prefix_key"]
    events = run_json(capsys, "events", running_lab, "--format", "json")
    jsonschema.validate(events, schemas.schema("events"))
    shown = run_json(capsys, "events", running_lab, "--show", "1", "--format", "json")
    jsonschema.validate(shown, schemas.schema("events-show"))
    assert "was created and deployed" in shown["body"]
    timeline = run_json(capsys, "timeline", running_lab, "--format", "json")
    jsonschema.validate(timeline, schemas.schema("timeline"))
    assert timeline["events"][-1]["kind"] == "turnup-held"


def test_an_email_in_full_and_a_missing_one(running_lab, capsys):
    assert main.main(["events", running_lab, "--show", "2"]) == 0
    text = capsys.readouterr().out
    assert "Subject: [contoso-ix-seattle]" in text and "X-Mapslab-Sequence: 2" in text
    assert main.main(["events", running_lab, "--show", "99"]) == 2
    assert "no email number 99" in capsys.readouterr().err


def test_every_schema_is_shipped_and_is_a_valid_schema():
    for name in schemas.NAMES:
        jsonschema.Draft202012Validator.check_schema(schemas.schema(name))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"lab": "x", "held_at": "nowhere", "passed": True, "checks": []},
                            schemas.schema("check"))


def test_probe_prints_its_responders_as_plain_text():
    from emulator.cli import probe_cmd
    assert probe_cmd.responders({"sea-ms2": 88, "sea-ms1": 412}) == "sea-ms1 412, sea-ms2 88"
    assert probe_cmd.responders({}) == "nobody"


def test_continue_refuses_a_step_behind_the_hold_and_a_lab_that_ran_to_its_end(running_lab,
                                                                               plan):
    from emulator.lab import lifecycle
    with pytest.raises(UsageError, match="held at asn-registered, past that step"):
        lifecycle.resume(running_lab, to="lag-up")
    holds.write(LabDir(running_lab).path, holds.held("auto", None))
    with pytest.raises(lifecycle.LabStateError, match="not held: its turn-up ran to the end"):
        lifecycle.resume(running_lab)
    assert main.main(["continue", running_lab, "--to", "somewhere"]) == 2
