"""The peering's screens on a recorded lab (no root): connection states as the timeline moves,
registration and activation through the portal, the emails, and clear answers for a lab that
is absent, being torn down, or removed from the CLI meanwhile."""
from __future__ import annotations

import asyncio
import json
import re
import shutil
import threading

import pytest

from emulator.core import labdir as labdirs
from emulator.core.labdir import LabDir, LabState
from emulator.lab import lifecycle
from emulator.plan.resolve import recorded_plan
from emulator.portal import turnup
from emulator.topology.loader import load
from emulator.web import stream
from emulator.web.app import Portal
from emulator.web.jobs import Kind
from tests.conftest import ROOT
from tests.unit.test_web_api import Browser

LAB = "h5unit"
T0 = 1_700_000_000.0


@pytest.fixture
def run_root(tmp_path, monkeypatch):
    root = tmp_path / "run"
    monkeypatch.setattr(labdirs, "RUN_ROOT", root)
    return root


@pytest.fixture
def lab(tmp_path, run_root):
    """A lab as `mapslab up --turnup manual` records it, before anything of it came up."""
    text = (ROOT / "topologies" / "seattle.yaml").read_text()
    source = tmp_path / f"{LAB}.yaml"
    source.write_text(re.sub(r"^lab: .*$", f"lab: {LAB}", text, count=1, flags=re.M))
    labdir = LabDir(LAB)
    labdir.write_state(LabState(LAB, str(source), "netns", [], phase="up"))
    shutil.copyfile(source, labdir.path / "topology.yaml")
    turnup.create(labdir, load(source))
    return labdir


@pytest.fixture
def browser(tmp_path, run_root) -> Browser:
    return Browser(Portal(tmp_path / "workspace"))


def happen(labdir: LabDir, at: float, kind: str, **fields: object) -> None:
    with open(labdir.events_file, "a") as out:
        out.write(json.dumps({"time": at, "kind": kind, **fields}) + "\n")


def states(browser: Browser) -> list[str]:
    answer = browser.get(f"/api/peerings/{LAB}")
    assert answer.status_code == 200, answer.text
    return [c["connectionState"] for c in answer.json()["connections"]]


def test_the_connection_state_follows_the_timeline(browser, lab):
    plan = recorded_plan(lab)
    seen = [states(browser)]
    happen(lab, T0, "lab-created", lab=LAB)
    seen.append(states(browser))
    for i, lag in enumerate(plan.lags):
        happen(lab, T0 + 1 + i, "ports-configured", node=lag.b_node, lag=lag.name)
    seen.append(states(browser))
    for i, lag in enumerate(plan.lags):
        happen(lab, T0 + 3 + i, "lag-up", node=lag.b_node, lag=lag.name, members_up=2)
        happen(lab, T0 + 5 + i, "bgp-configured", node=lag.b_node, lag=lag.name)
    seen.append(states(browser))
    sessions = [s for s in plan.sessions if s.interconnect]
    for i, session in enumerate(sessions):
        happen(lab, T0 + 7 + i, "bgp-state", node=session.b_node, lag=session.lag,
               peer=session.a_address, state="up")
        if i == 0:
            seen.append(states(browser))
    seen.append(states(browser))
    assert [s[0] for s in seen] == ["PendingApproval", "Approved", "ProvisioningStarted",
                                   "ProvisioningCompleted", "Validating", "Active"]
    page = browser.get(f"/peerings/{LAB}").text
    assert "Active" in page and 'readonly value="64500"' in page


def test_registration_waits_for_active_then_gives_the_key_for_activation(browser, lab):
    refused = browser.post(f"/api/peerings/{LAB}/registered-asns",
                           {"name": "fabrikam", "asn": "64501"})
    assert refused.status_code == 409 and "Active" in refused.json()["error"]
    plan = recorded_plan(lab)
    happen(lab, T0, "lab-created", lab=LAB)
    for lag in plan.lags:
        happen(lab, T0 + 1, "lag-up", node=lag.b_node, lag=lag.name, members_up=2)
        happen(lab, T0 + 2, "bgp-configured", node=lag.b_node, lag=lag.name)
    for session in (s for s in plan.sessions if s.interconnect):
        happen(lab, T0 + 3, "bgp-state", node=session.b_node, lag=session.lag,
               peer=session.a_address, state="up")
    private = browser.post(f"/api/peerings/{LAB}/registered-asns",
                           {"name": "private", "asn": "65010"})
    assert private.status_code == 409 and "private" in private.json()["error"]
    registered = browser.post(f"/api/peerings/{LAB}/registered-asns",
                              {"name": "fabrikam", "asn": "64501"})
    assert registered.status_code == 200, registered.text
    key = registered.json()["peeringServicePrefixKey"]
    assert key in browser.get(f"/peerings/{LAB}/registered-asns").text
    wrong = browser.post(f"/api/peerings/{LAB}/prefixes",
                         {"prefix": "198.51.100.0/24", "key": "0" * 36})
    assert wrong.status_code == 409 and "wrong peering service prefix key" in wrong.json()["error"]
    activated = browser.post(f"/api/peerings/{LAB}/prefixes",
                             {"prefix": "198.51.100.0/24", "key": key})
    assert activated.status_code == 200, activated.text
    assert activated.json()["prefixValidationState"] == "Verified"
    assert 'data-prefix="198.51.100.0/24"' in browser.get(f"/peerings/{LAB}/prefixes").text
    # The emails, newest first, each readable.
    listing = browser.get(f"/peerings/{LAB}/notifications").text
    subjects = re.findall(r'class="message">([^<]+)<', listing)
    assert "Prefix 198.51.100.0/24 activated" in subjects[0]
    assert "Peering created" in subjects[-1]
    first = re.search(r'href="(/peerings/h5unit/notifications/[^"]+)" class="message">'
                      r'[^<]*Registered ASN', listing)
    assert key in browser.get(first[1]).text


def test_a_message_key_that_is_not_in_the_maildir_is_refused(browser, lab):
    answer = browser.get(f"/peerings/{LAB}/notifications/..%2Fstate.json")
    assert answer.status_code in (404, 409) and "Traceback" not in answer.text


def test_the_lab_file_comes_back_as_it_went_in(browser, lab):
    answer = browser.get(f"/peerings/{LAB}/topology.yaml")
    assert answer.status_code == 200
    assert answer.text == (lab.path / "topology.yaml").read_text()


# ---- a lab that is absent, being torn down, or removed meanwhile ----

def test_an_absent_lab_is_a_clear_404(browser):
    for path in (f"/peerings/{LAB}", f"/labs/{LAB}", f"/peerings/{LAB}/prefixes",
                 f"/peerings/{LAB}/notifications"):
        answer = browser.get(path)
        assert answer.status_code == 404 and "This lab is not up" in answer.text, path
        assert "Traceback" not in answer.text
    assert browser.get(f"/api/peerings/{LAB}").json()["title"] == "This lab is not up"


def test_a_lab_removed_from_the_cli_meanwhile(browser, lab):
    assert browser.get(f"/peerings/{LAB}").status_code == 200
    lifecycle.down(LAB)                                   # `mapslab down` in another terminal
    answer = browser.get(f"/peerings/{LAB}")
    assert answer.status_code == 404 and "no lab named" in answer.text and LAB in answer.text
    late = browser.post(f"/api/peerings/{LAB}/registered-asns", {"name": "x", "asn": "64501"})
    assert late.status_code == 404
    assert LAB not in browser.get("/").text


def test_a_lab_half_removed_is_refused_with_a_reason(browser, lab):
    (lab.path / "topology.yaml").unlink()                 # teardown under way
    answer = browser.get(f"/api/peerings/{LAB}")
    assert answer.status_code == 409 and "cannot read the plan" in answer.json()["error"]


def test_a_lab_the_portal_tears_down_says_so(browser, lab):
    release = threading.Event()
    job = browser.portal.jobs.start(Kind.DELETE, LAB, lambda progress: {"held": release.wait(30)})
    try:
        answer = browser.get(f"/peerings/{LAB}")
        assert answer.status_code == 409 and "being torn down" in answer.text
    finally:
        release.set()
    assert job.lab == LAB


def test_the_live_stream_ends_with_gone_when_the_lab_goes(browser, lab):
    class Reader:                     # what the stream asks of its request
        async def is_disconnected(self) -> bool:
            return False

    calls = []

    def snapshot():
        calls.append(1)
        if len(calls) > 1:
            lifecycle.down(LAB)
        from emulator.web.labs import peering
        from emulator.web.views_peering import peering_json
        return peering_json(peering(LAB))

    async def collect():
        return [chunk async for chunk in stream._events(Reader(), snapshot, lambda _: False)]
    chunks = asyncio.run(asyncio.wait_for(collect(), 30))
    assert chunks[1].startswith("event: state")
    assert chunks[-1].startswith("event: gone") and "no lab named" in chunks[-1]


def test_the_lab_view_draws_every_lag_member_and_session_of_the_plan(browser, lab):
    page = browser.get(f"/labs/{LAB}")
    assert page.status_code == 200, page.text
    plan = recorded_plan(lab)
    for lag in plan.lags:
        assert f'id="lag-{lag.name}"' in page.text
        assert all(f'id="member-{lag.name}-{k + 1}"' in page.text for k in range(len(lag.members)))
    for session in (s for s in plan.sessions if s.lag):
        assert f'id="session-{session.name}"' in page.text
    for zone in ("zone-exchange", "zone-peer", "zone-microsoft"):
        assert zone in page.text
    assert 'value="member-down" data-kind="MEMBER"' in page.text
    targets = json.loads(re.search(r'id="fault-targets">([^<]+)<', page.text)[1])
    assert targets["LAG"] == [lag.name for lag in plan.lags]
    assert targets["LOCATION"] == ["sea"]


def test_a_lab_still_being_built_has_no_lab_view_yet(browser, lab):
    state = lab.read_state()
    state.phase = "creating"
    lab.write_state(state)
    answer = browser.get(f"/labs/{LAB}")
    assert answer.status_code == 409 and "still being built" in answer.text
    assert browser.get(f"/peerings/{LAB}").status_code == 200      # its peering page shows
