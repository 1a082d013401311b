"""The portal's turn-up on a real lab: from an empty lab to optimized, activated prefixes.

lab.up creates the peering before any edge starts and runs the turn-up once the lab is built
(provision, then in auto mode the declared registrations and activations); in manual mode the
user registers and activates. The tests also call those steps themselves: each is idempotent.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from emulator.lab import lifecycle as lab_module
from emulator.observe import observers as observe
from emulator.core import wait
from emulator.portal import store, turnup
from emulator.portal.registration import activate_prefix, register_asn, wait_edges_judged
from emulator.portal.state import ConnectionState
from emulator.core.errors import WorkflowError
from emulator.core.labdir import LabDir
from emulator.topology.loader import load
from emulator.portal.notify import Milestone
from emulator.plan.resolve import resolve
from tests.integration.conftest import LAB_PREFIX, topology_copy

pytestmark = pytest.mark.integration

LONG = "198.51.100.128/25"
SHORT = "198.51.100.0/24"


def with_long_prefix(tmp_path: Path, lab: str, activated: bool,
                     not_activated: str = "") -> Path:
    """The example topology under the test's lab name, fabrikam also announcing a /25; the
    member `not_activated` declares none of its prefixes activated."""
    path = topology_copy(tmp_path, lab)
    data = yaml.safe_load(path.read_text())
    fabrikam = next(m for m in data["exchange"]["members"] if m["name"] == "fabrikam")
    fabrikam["prefixes"].append({"prefix": LONG, "traffic-class": "voice", "endpoints": "sbc",
                                 "activated": activated})
    for member in data["exchange"]["members"]:
        if member["name"] == not_activated:
            for prefix in member["prefixes"]:
                prefix["activated"] = False
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    mapslab = str(Path(sys.executable).with_name("mapslab"))
    checked = subprocess.run([mapslab, "validate", str(path)], capture_output=True, text=True,
                             timeout=60)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    return path


def verdicts(running, prefix: str) -> dict[str, tuple[str, str]]:
    """Per edge router, the outcome and rule of `prefix` (as its IPv4 session received it)."""
    found = {}
    for edge in observe.edge_routes(running.plan, running.node_dir):
        for routes in edge.peers.values():
            if prefix in routes:
                found[edge.node] = (routes[prefix]["outcome"], routes[prefix]["rule"])
    return found


def wait_verdicts(running, prefix: str, outcome: str) -> dict[str, tuple[str, str]]:
    edges = sorted(n.name for n in running.plan.nodes if n.role.value == "microsoft-edge")
    return wait.until("prefixes", lambda: verdicts(running, prefix),
                      lambda found: "" if sorted(found) == edges and all(
                          o == outcome for o, _ in found.values())
                      else f"{prefix}: {found}, expected {outcome} at {edges}")


@pytest.fixture
def fresh():
    """Lab names of this module, removed before and after, leftovers checked."""
    names: list[str] = []

    def claim(name: str) -> str:
        lab_module.down(name)
        names.append(name)
        return name

    yield claim
    for name in names:
        lab_module.down(name)
        assert lab_module.leftovers(name) == []


def test_manual_turnup_from_an_empty_lab_to_an_optimized_slash_25(tmp_path, fresh):
    name = fresh(f"{LAB_PREFIX}turn")
    path = with_long_prefix(tmp_path, name, activated=False)
    topo = load(path)
    plan = resolve(topo)
    labdir = LabDir(name)

    # Create and deploy the peering before any edge starts: nothing registered yet.
    turnup.create(labdir, topo)
    with pytest.raises(WorkflowError) as refused:
        register_asn(labdir, plan, "fabrikam-voice", 64501)
    assert "1 of 1 connection(s) of peering contoso-ix-seattle not Active yet (connection " \
           "sea-1: PendingApproval" in str(refused.value)
    assert "must be Active before registering your ASN" in str(refused.value)

    running = lab_module.up(path, turnup="manual")
    try:
        # The edges judged from peering.json since they started: nothing optimized.
        assert verdicts(running, LONG) == {"sea-ms1": ("rejected", "MS-LONG-PREFIX"),
                                           "sea-ms2": ("rejected", "MS-LONG-PREFIX")}
        assert {o for o, _ in verdicts(running, SHORT).values()} == {"not-optimized"}

        result = turnup.turn_up(labdir, plan, topo, "manual")
        assert [c.state for c in result.connections] == [ConnectionState.ACTIVE]
        assert result.problems == () and result.state.registrations == ()

        # Every ASN registered, nothing activated: the 12 routes of the default lab (6 prefixes
        # at 2 edges) are accepted, not optimized; the /25 stays rejected.
        keys = {r.asn: register_asn(labdir, plan, r.name, r.asn).peering_service_prefix_key
                for r in topo.registered_asns}
        wait_edges_judged(labdir, plan)
        held = [(edge.node, prefix, route["outcome"], route["rule"])
                for edge in observe.edge_routes(running.plan, running.node_dir)
                for routes in edge.peers.values() for prefix, route in routes.items()
                if prefix != LONG]
        assert len(held) == 12, held
        assert {(o, r) for _, _, o, r in held} == {("not-optimized", "MS-ACTIVATED")}, held

        # Activated with its origin's key: optimized, and only that prefix.
        activate_prefix(labdir, plan, SHORT, keys[64501])
        found = wait_verdicts(running, SHORT, "optimized")
        assert {r for _, r in found.values()} == {"MS-OPTIMIZED"}
        assert {o for o, _ in verdicts(running, "203.0.113.0/24").values()} == {"not-optimized"}
        assert verdicts(running, LONG) == {"sea-ms1": ("rejected", "MS-LONG-PREFIX"),
                                           "sea-ms2": ("rejected", "MS-LONG-PREFIX")}

        with pytest.raises(WorkflowError, match="wrong peering service prefix key"):
            activate_prefix(labdir, plan, LONG, keys[64500])
        activate_prefix(labdir, plan, LONG, keys[64501])
        found = wait_verdicts(running, LONG, "optimized")
        assert found == {"sea-ms1": ("optimized", "MS-OPTIMIZED"),
                         "sea-ms2": ("optimized", "MS-OPTIMIZED")}

        delivered = store.events(labdir)
        assert [d.milestone for d in delivered][-5:] == [Milestone.ASN_REGISTERED.value] * 3 + [
            Milestone.PREFIX_ACTIVATED.value] * 2
        assert [d.sequence for d in delivered] == list(range(1, len(delivered) + 1))
        assert len(list((labdir.path / "maildir" / "new").iterdir())) == len(delivered)
        assert delivered[-1].subject == (
            "[contoso-ix-seattle] Prefix 198.51.100.128/25 activated (AS64501)")
    finally:
        running.close()


def test_auto_turnup_gives_the_declared_intent(tmp_path, fresh):
    name = fresh(f"{LAB_PREFIX}turn2")
    path = with_long_prefix(tmp_path, name, activated=True, not_activated="tailspin")
    topo = load(path)
    plan = resolve(topo)
    labdir = LabDir(name)

    turnup.create(labdir, topo)
    running = lab_module.up(path)
    try:
        result = turnup.turn_up(labdir, plan, topo, "auto")
        assert result.problems == ()
        state = result.state
        assert state.registered_asns == [64500, 64501, 65537]
        # What the topology declares activated: all but tailspin's prefixes.
        assert state.activated_prefixes == list(plan.activated_prefixes)
        assert LONG in state.activated_prefixes and "203.0.113.0/24" not in plan.activated_prefixes
        # turn_up returns once the edges judged: no wait needed here.
        assert verdicts(running, LONG) == {"sea-ms1": ("optimized", "MS-OPTIMIZED"),
                                           "sea-ms2": ("optimized", "MS-OPTIMIZED")}
        tailspin = {"203.0.113.0/24", "2001:db8:300::/48"}
        for edge in observe.edge_routes(running.plan, running.node_dir):
            for routes in edge.peers.values():
                for prefix, route in routes.items():
                    want = ("not-optimized", "MS-ACTIVATED") if prefix in tailspin else (
                        "optimized", "MS-OPTIMIZED")
                    assert (route["outcome"], route["rule"]) == want, (edge.node, prefix)
        assert [d.milestone for d in store.events(labdir)][-3 - len(plan.activated_prefixes):] \
            == ["asn-registered"] * 3 + ["prefix-activated"] * len(plan.activated_prefixes)
    finally:
        running.close()
