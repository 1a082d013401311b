"""Rehearse a turn-up step by step on a real lab, then change it in place and look inside.

The turn-up is held at each of the page's steps in turn (`up --pause-at`, `continue --to`); at
each pause `status`, `peering` and `check` (their JSON, validated against the shipped schemas)
say what the lab is, and the page's refusals happen exactly there: registration until every
connection is Active, activation before registration and without the right key.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from emulator.cli.schemas import schema
from emulator.core import hold as holds
from emulator.core import wait
from emulator.core.labdir import LabDir
from emulator.lab import change, lifecycle
from emulator.observe import observers as observe
from tests.conftest import ROOT
from tests.integration.conftest import LAB_PREFIX, topology_copy

pytestmark = pytest.mark.integration

MAPSLAB = str(Path(sys.executable).with_name("mapslab"))
ACTIVATED = "198.51.100.0/24"          # fabrikam's (AS64501), declared activated below
NEW = "2001:db8:400::/48"              # no node announces it: announced in the running lab


def mapslab(*args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([MAPSLAB, *args], capture_output=True, text=True, timeout=240,
                            stdin=subprocess.DEVNULL)
    assert "Traceback" not in result.stderr, result.stderr
    if ok:
        assert result.returncode in (0, 3), result.stdout + result.stderr
    return result


def as_json(name: str, *args: str) -> dict:
    data = json.loads(mapslab(*args, "--format", "json").stdout)
    jsonschema.validate(data, schema(name))
    return data


@pytest.fixture(scope="module")
def rehearsal(tmp_path_factory):
    name = f"{LAB_PREFIX}reh"
    path = topology_copy(tmp_path_factory.mktemp("topo"), name)
    data = yaml.safe_load(path.read_text())
    fabrikam = next(m for m in data["exchange"]["members"] if m["name"] == "fabrikam")
    next(p for p in fabrikam["prefixes"] if p["prefix"] == ACTIVATED)["activated"] = True
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    lifecycle.down(name)
    try:
        yield name, path
    finally:
        lifecycle.down(name)
        assert lifecycle.leftovers(name) == []


@pytest.fixture
def turned_up(rehearsal) -> str:
    """The rehearsal's lab with its turn-up complete (when a test runs without the walk)."""
    name, path = rehearsal
    if not LabDir(name).exists():
        mapslab("up", str(path))
    elif holds.read(LabDir(name).path).step is not None:
        mapslab("continue", name)
    return name


def look(name: str) -> tuple[dict, dict, dict]:
    status = json.loads(mapslab("status", name, "--format", "json").stdout)
    return status, as_json("peering", "peering", name), as_json("check", "check", name)


def results(check: dict) -> dict[str, tuple[str, str]]:
    return {c["check"]: (c["result"], c["summary"]) for c in check["checks"]}


def refused_registration(name: str) -> str:
    result = mapslab("asn", "register", name, "fabrikam-voice", "64501", ok=False)
    assert result.returncode == 1, result.stdout
    return result.stderr


def test_the_turn_up_one_pause_at_a_time(rehearsal):
    name, path = rehearsal
    mapslab("up", str(path), "--pause-at", "ports-configured")

    # ports configured: Microsoft's side is built, the peer's LACP is held.
    status, peering, check = look(name)
    assert peering["held_at"] == check["held_at"] == "ports-configured"
    assert not any(lag["edge_side"]["up"] for lag in status["lags"])
    assert peering["connections"][0]["connection_state"] == "ProvisioningStarted"
    assert results(check)["lag-before-bgp"][0] == "not-yet"
    assert "not yet: the LAG is not up" in results(check)["mesh-formed"][1]
    assert results(check)["peer-devices"][0] == "pass"
    assert check["passed"]                       # nothing judged has failed
    assert "not Active yet" in refused_registration(name)

    # LAG up: LACP collects and distributes; the edge's automation has not configured BGP.
    mapslab("continue", name, "--to", "lag-up")
    status, peering, check = look(name)
    assert all(lag["edge_side"]["up"] and lag["peer_side"]["up"] for lag in status["lags"])
    assert peering["connections"][0]["connection_state"] == "ProvisioningStarted"
    assert "configure BGP" in peering["connections"][0]["detail"]
    assert "not yet: Microsoft's edge has not configured BGP" in results(check)["mesh-formed"][1]
    assert "not Active yet" in refused_registration(name)

    # BGP configured by the edge: the peer's routers are held, so nothing is Established.
    mapslab("continue", name, "--to", "bgp-configured")
    status, peering, check = look(name)
    assert peering["connections"][0]["connection_state"] == "ProvisioningCompleted"
    assert not any(s["state"] == "Established" for s in status["sessions"] if s["interconnect"])
    assert results(check)["mesh-formed"][0] == "not-yet"
    assert "not Active yet" in refused_registration(name)

    # Sessions Established: the checks can judge now; the connection is not Active yet.
    mapslab("continue", name, "--to", "sessions-established")
    status, peering, check = look(name)
    assert all(s["state"] == "Established" for s in status["sessions"] if s["interconnect"])
    assert peering["connections"][0]["connection_state"] == "Validating"
    assert {r for r, _ in results(check).values()} == {"pass"}, check
    assert "not Active yet" in refused_registration(name)

    # Connection Active: registration is allowed now; activation before it is refused.
    mapslab("continue", name, "--to", "connection-active")
    _, peering, _ = look(name)
    assert peering["connections"][0]["connection_state"] == "Active"
    assert peering["registered_asns"] == []
    early = mapslab("prefix", "activate", name, ACTIVATED, "--key", "x", ok=False)
    assert early.returncode == 1 and "register it first" in early.stderr

    # ASN registered: each origin has its key; activation needs that key.
    mapslab("continue", name, "--to", "asn-registered")
    _, peering, _ = look(name)
    assert {r["asn"] for r in peering["registered_asns"]} == {64500, 64501, 65537}
    assert peering["activated_prefixes"] == []
    for key in ("", "wrong-key"):
        wrong = mapslab("prefix", "activate", name, ACTIVATED, "--key", key, ok=False)
        assert wrong.returncode == 1 and "key" in wrong.stderr

    # Prefix activated: the turn-up ran to its end, every check passes.
    mapslab("continue", name)
    _, peering, check = look(name)
    assert peering["held_at"] is None and check["held_at"] is None
    assert ACTIVATED in [p["prefix"] for p in peering["activated_prefixes"]]
    assert check["passed"] and {r for r, _ in results(check).values()} == {"pass"}
    again = mapslab("continue", name, ok=False)
    assert again.returncode == 1 and "not held" in again.stderr

    events = as_json("events", "events", name)
    milestones = [e["milestone"] for e in events]
    assert milestones.index("connection-active") < milestones.index("asn-registered") \
        < milestones.index("prefix-activated")
    activated = next(e for e in events if ACTIVATED in e["subject"])
    shown = as_json("events-show", "events", name, "--show", str(activated["sequence"]))
    assert ACTIVATED in shown["body"] and "prefix key" in shown["body"]
    full = mapslab("events", name, "--show", "1").stdout
    assert full.startswith("From:") or "Subject:" in full
    timeline = as_json("timeline", "timeline", name)
    held = [e["fields"]["step"] for e in timeline["events"] if e["kind"] == "turnup-held"]
    assert held == ["ports-configured", "lag-up", "bgp-configured", "sessions-established",
                    "connection-active", "asn-registered"]


def edge_outcomes(running, prefix: str) -> set[tuple[str, str]]:
    return {(r.outcome, r.rule) for e in observe.edge_routes(running.plan, running.node_dir)
            for r in e.routes() if r.prefix == prefix}


def test_deactivate_and_deregister_rejudge_the_routes_and_send_emails(turned_up):
    name = turned_up
    before = len(as_json("events", "events", name))
    _, peering, _ = look(name)
    fabrikams = [p["prefix"] for p in peering["activated_prefixes"] if p["origin_asn"] == 64501]
    assert ACTIVATED in fabrikams
    refused = mapslab("asn", "deregister", name, "fabrikam-voice", ok=False)
    assert refused.returncode == 1 and ACTIVATED in refused.stderr
    with lifecycle.attached(name) as running:
        assert {o for o, _ in edge_outcomes(running, ACTIVATED)} == {"optimized"}
        for prefix in fabrikams:
            mapslab("prefix", "deactivate", name, prefix)
        # Judged again at once: the command returns once every edge agreed.
        assert {o for o, _ in edge_outcomes(running, ACTIVATED)} == {"not-optimized"}
        mapslab("asn", "deregister", name, "fabrikam-voice")
        assert edge_outcomes(running, ACTIVATED) == {("not-optimized", "MS-REGISTERED")}
    events = as_json("events", "events", name)
    assert [e["milestone"] for e in events[before:]] == \
        ["prefix-deactivated"] * len(fabrikams) + ["asn-deregistered"]
    _, peering, _ = look(name)
    assert 64501 not in {r["asn"] for r in peering["registered_asns"]}
    assert not {p["prefix"] for p in peering["activated_prefixes"]} & set(fabrikams)
    # Registered again, a script takes the new key; traffic still flows, in plain figures.
    again = as_json("asn-register", "asn", "register", name, "fabrikam-voice", "64501")
    assert again["asn"] == 64501 and again["peering_service_prefix_key"]
    probe = as_json("probe", "probe", name, "--count", "50", "--rate", "50")
    assert probe["lost"] == 0 and sum(probe["responders"].values()) == 50
    text = mapslab("probe", name, "--count", "20", "--rate", "50").stdout
    assert "answered by sea-ms" in text and "{" not in text


def test_a_member_and_a_peer_router_announce_and_withdraw(turned_up):
    name = turned_up
    with lifecycle.attached(name) as running:
        for node in ("fabrikam", "sea-pr1"):
            change.originate(running, node, NEW, announce=True)
            seen = change.wait_at_edges(running, NEW, present=True)    # budget `prefixes`
            assert len(seen) == len(running.plan.lags)
            change.originate(running, node, NEW, announce=False)
            assert change.wait_at_edges(running, NEW, present=False) == []
    out = mapslab("announce", name, "tailspin", NEW).stdout
    assert "sea-ms1" in out and "sea-ms2" in out
    mapslab("withdraw", name, "tailspin", NEW)


def members_up(running, lag_name: str) -> tuple[int, int]:
    obs = next(o for o in observe.lags(running.plan, running.driver) if o.lag == lag_name)
    return obs.peer_side.members_up, obs.edge_side.members_up


def wait_members(running, lag_name: str, up: bool) -> None:
    """Every member of both ends in (up) or out of (not up) the bundle, budget lacp_recovery."""
    want = len(running.plan.lags[0].members) if up else 0
    wait.until("lacp_recovery", lambda: members_up(running, lag_name),
               lambda seen: "" if seen == (want, want) else f"members up {seen}, want {want}")


def test_lacp_changed_in_place_follows_802_1ax(turned_up):
    name = turned_up
    lag = "sea-1-a"
    with lifecycle.attached(name) as running:
        # One passive end still aggregates with an active partner (IEEE 802.1AX-2014 6.4.13)...
        mapslab("set", name, lag, "lacp", "passive")
        assert wait.during("negative_window", lambda: members_up(running, lag))[-1] == (2, 2)
        # ...two passive ends never do.
        mapslab("set", name, lag, "lacp", "passive", "--side", "edge")
        wait_members(running, lag, up=False)
        mapslab("set", name, lag, "lacp", "active", "--side", "edge")
        wait_members(running, lag, up=True)
        # A partner without LACP: its members leave the edge's bundle.
        mapslab("set", name, lag, "lacp", "off")
        wait.until("lacp_recovery", lambda: members_up(running, lag)[1],
                   lambda edge: "" if edge == 0 else f"{edge} edge members still up")
        mapslab("set", name, lag, "lacp", "active")
        mapslab("set", name, lag, "rate", "slow")
        wait_members(running, lag, up=True)
        mapslab("set", name, lag, "rate", "fast")
    bad = mapslab("set", name, lag, "lacp", "sometimes", ok=False)
    assert bad.returncode == 2 and "choose active, passive, off" in bad.stderr


def test_exec_into_every_node_of_the_lab(turned_up):
    name = turned_up
    with lifecycle.attached(name) as running:
        nodes = [n.name for n in running.plan.nodes]
    for node in nodes:
        result = mapslab("exec", name, node, "--", "ip", "-o", "link", "show", "lo")
        assert result.returncode == 0 and "lo:" in result.stdout, (node, result.stderr)
    # No command: the router's own CLI, with the lab's sockets (its input is empty here).
    frr = mapslab("exec", name, "sea-pr1")
    assert frr.returncode == 0, frr.stderr
    bird = subprocess.run([MAPSLAB, "exec", name, "rs"], input="show protocols\n",
                          capture_output=True, text=True, timeout=60)
    assert "BIRD" in bird.stdout and "Established" in bird.stdout, bird.stdout + bird.stderr


@pytest.fixture(scope="module")
def other_programs(tmp_path_factory):
    """sea-pr1 on OpenBGPD and sea-pr2 on GoBGP, both with the lab's own configuration."""
    name = f"{LAB_PREFIX}rex"
    path = topology_copy(tmp_path_factory.mktemp("topo"), name)
    data = yaml.safe_load(path.read_text())
    for router, software in zip(data["routers"], ("openbgpd", "gobgp")):
        router["software"] = software
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    lifecycle.down(name)
    try:
        mapslab("up", str(path))
        yield name
    finally:
        lifecycle.down(name)
        assert lifecycle.leftovers(name) == []


def test_exec_opens_openbgpd_and_gobgp_clients(other_programs):
    name = other_programs
    openbgpd = mapslab("exec", name, "sea-pr1")          # bgpctl show: the neighbor summary
    assert openbgpd.returncode == 0 and "sea-1-a-v4" in openbgpd.stdout, openbgpd.stdout
    assert "8075" in openbgpd.stdout
    gobgp = mapslab("exec", name, "sea-pr2")             # gobgp neighbor
    assert gobgp.returncode == 0 and "Establ" in gobgp.stdout, gobgp.stdout
    with lifecycle.attached(name) as running:
        for node in ("sea-pr1", "sea-pr2"):
            change.originate(running, node, NEW, announce=True)
            assert len(change.wait_at_edges(running, NEW, present=True)) == 2
            change.originate(running, node, NEW, announce=False)
            assert change.wait_at_edges(running, NEW, present=False) == []


def test_a_broken_turn_up_is_fixed_in_place_and_goes_on(tmp_path):
    """Both ends passive (topologies/broken/lacp-passive.yaml): no LAG, so no BGP; one end made
    active in place brings the LAG up, and the held turn-up goes on to Active."""
    name = f"{LAB_PREFIX}rfx"
    path = topology_copy(tmp_path, name, "broken/lacp-passive.yaml")
    path.write_text(path.read_text().replace("../configs/", f"{ROOT}/topologies/configs/"))
    lifecycle.down(name)
    try:
        up = mapslab("up", str(path), "--skip-validation", "--pause-at", "lag-up")
        assert up.returncode == 3 and "did not come up" in up.stdout
        _, peering, _ = look(name)
        assert peering["connections"][0]["connection_state"] == "ProvisioningFailed"
        for lag in ("sea-1-a", "sea-1-b"):
            mapslab("set", name, lag, "lacp", "active")
        with lifecycle.attached(name) as running:
            for lag in running.plan.lags:
                wait_members(running, lag.name, up=True)
        assert mapslab("continue", name).returncode == 0
        _, peering, check = look(name)
        assert peering["connections"][0]["connection_state"] == "Active"
        assert results(check)["lag-before-bgp"][0] == "pass"
    finally:
        lifecycle.down(name)
        assert lifecycle.leftovers(name) == []
