"""The portal's API with Starlette's test client: who gets in, each wizard step's findings on
their fields, and the file → portal → file round trip. No root, no lab."""
from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
import time
from http.client import HTTPConnection
from pathlib import Path

import warnings

import pytest
import yaml

with warnings.catch_warnings():          # Starlette prefers httpx2; httpx is the one pinned
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from emulator.cli.main import main as mapslab
from emulator.plan.resolve import resolve
from emulator.topology.loader import load, parse
from emulator.web import server, views_create
from emulator.web.app import Portal, build
from emulator.web.auth import COOKIE
from tests.conftest import ROOT

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
BASE = "http://127.0.0.1:8075"


class Browser:
    """A signed-in test client and the CSRF token its pages carry."""

    def __init__(self, portal: Portal):
        self.portal = portal
        self.client = TestClient(build(portal=portal), base_url=BASE)
        answer = self.client.get(f"/?token={portal.gate.token}")
        assert answer.status_code == 200
        self.csrf = re.search(r'name="csrf-token" content="([^"]+)"', answer.text).group(1)

    def get(self, url: str, **kw):
        return self.client.get(url, **kw)

    def post(self, url: str, body: dict | None = None, **headers: str):
        sent = {"X-CSRF-Token": self.csrf, "Origin": BASE} | headers
        return self.client.post(url, json=body or {}, headers=sent)

    def draft(self) -> str:
        return str(self.get("/create").url).rsplit("/", 1)[1]


@pytest.fixture
def portal(tmp_path) -> Portal:
    return Portal(tmp_path / "workspace")


@pytest.fixture
def browser(portal) -> Browser:
    return Browser(portal)


def rules_on(answer, field: str | None = None) -> set[str]:
    return {f["rule"] for f in answer.json()["findings"]
            if field is None or f["field"] == field}


# ---- who gets in ----

@pytest.mark.parametrize("path", ["/", "/create", "/static/portal.css", "/api/peerings/x",
                                  "/labs/x", "/peerings/x/notifications"])
def test_without_the_token_every_address_is_401(portal, path):
    client = TestClient(build(portal=portal), base_url=BASE)
    answer = client.get(path)
    assert answer.status_code == 401
    assert "mapslab portal" in answer.text and "set-cookie" not in answer.headers


def test_a_wrong_token_is_401_and_opens_no_session(portal):
    client = TestClient(build(portal=portal), base_url=BASE)
    answer = client.get("/?token=not-the-token", follow_redirects=False)
    assert answer.status_code == 401 and "set-cookie" not in answer.headers
    assert client.get("/").status_code == 401


def test_the_token_becomes_a_strict_httponly_cookie_and_leaves_the_address(portal):
    client = TestClient(build(portal=portal), base_url=BASE)
    answer = client.get(f"/open?token={portal.gate.token}", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/open"
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE}=") and "HttpOnly" in cookie
    assert "SameSite=Strict" in cookie and portal.gate.token not in cookie
    assert client.get("/open").status_code == 200


def test_a_session_of_another_start_is_refused(portal, tmp_path):
    old = Browser(Portal(tmp_path / "other"))
    cookie = old.client.cookies.get(COOKIE)
    client = TestClient(build(portal=portal), base_url=BASE, cookies={COOKIE: cookie})
    assert client.get("/").status_code == 401


@pytest.mark.parametrize("headers", [
    {"X-CSRF-Token": ""},                                      # no token: a forged form post
    {"X-CSRF-Token": "guessed"},
    {"Origin": "http://evil.example"},                         # the right token, another site
    {"Origin": "", "Referer": "http://evil.example/page"},
    {"Origin": "", "Referer": ""},                             # nothing says where it is from
], ids=["no-csrf", "wrong-csrf", "cross-origin", "cross-referer", "no-origin"])
def test_forged_changes_are_refused(browser, headers):
    draft = browser.draft()
    answer = browser.post(f"/api/drafts/{draft}/basics", {"peer-asn": "64500"}, **headers)
    assert answer.status_code == 403
    assert browser.portal.drafts.get(draft).data["peering"].get("peer-asn") is None


def test_a_change_with_the_session_token_from_the_portal_passes(browser):
    draft = browser.draft()
    assert browser.post(f"/api/drafts/{draft}/basics", {"peer-asn": "64500"}).status_code == 200
    same_site = browser.post(f"/api/drafts/{draft}/basics", {"peer-asn": "64501"}, Origin="",
                             Referer=f"{BASE}/create/{draft}")
    assert same_site.status_code == 200
    assert browser.portal.drafts.get(draft).data["peering"]["peer-asn"] == 64501


# ---- the wizard: each step's findings on their fields ----

def test_basics_puts_the_private_asn_finding_on_the_asn_field(browser):
    draft = browser.draft()
    answer = browser.post(f"/api/drafts/{draft}/basics",
                          {"lab": "h5unit", "name": "contoso", "peer-asn": "65010"})
    assert answer.status_code == 200
    asn = [f for f in answer.json()["findings"] if f["field"] == "peering.peer-asn"]
    assert [(f["rule"], f["tab"], f["severity"]) for f in asn] == [
        ("MAPS-ASN-PUBLIC", "basics", "error")]
    assert "MUST be public" in asn[0]["wording"] and "AS65010" in asn[0]["found"]
    fixed = browser.post(f"/api/drafts/{draft}/basics", {"peer-asn": "64500"})
    assert "MAPS-ASN-PUBLIC" not in rules_on(fixed)


def test_basics_format_problems_land_on_their_fields(browser):
    draft = browser.draft()
    answer = browser.post(f"/api/drafts/{draft}/basics", {"lab": "Bad Name", "peer-asn": "AS1"})
    assert rules_on(answer, "lab") == {"FORMAT"}
    assert rules_on(answer, "peering.peer-asn") == {"FORMAT"}


@pytest.mark.parametrize("field,value,rule", [
    ("kind", "Exchange", "MAPS-PORTAL-KIND"),
    ("microsoft-network", "AS8075", "MAPS-PORTAL-NETWORK"),
    ("sku", "Basic Free", "MAPS-PORTAL-SKU"),
])
def test_configuration_puts_each_portal_rule_on_its_field(browser, field, value, rule):
    draft = browser.draft()
    browser.post(f"/api/drafts/{draft}/basics", {"lab": "h5unit", "peer-asn": "64500"})
    answer = browser.post(f"/api/drafts/{draft}/configuration", {field: value})
    assert rules_on(answer, f"peering.{field}") == {rule}
    assert all(f["tab"] == "configuration" for f in answer.json()["findings"])


def test_a_peering_without_a_connection_is_told_so_on_the_connections(browser):
    draft = browser.draft()
    browser.post(f"/api/drafts/{draft}/basics", {"lab": "h5unit", "peer-asn": "64500"})
    answer = browser.post(f"/api/drafts/{draft}/configuration", {})
    assert "MAPS-PORTAL-CONNECTION" in rules_on(answer, "connections")


@pytest.mark.parametrize("dialog,field,rule", [
    ({"session-address-provider": "Microsoft"}, "connections[0].session-address-provider",
     "MAPS-PORTAL-SESSION-ADDRESS"),
    ({"use-for-peering-service": False}, "connections[0].use-for-peering-service",
     "MAPS-PORTAL-PEERING-SERVICE"),
])
def test_the_connection_dialog_puts_its_rules_on_the_connection(browser, dialog, field, rule):
    draft = browser.draft()
    browser.post(f"/api/drafts/{draft}/basics", {"lab": "h5unit", "peer-asn": "64500"})
    answer = browser.post(f"/api/drafts/{draft}/connections",
                          {"location": "sea", "bandwidth-gbps": "20", **dialog})
    assert answer.json()["index"] == 0
    assert rules_on(answer, field) == {rule}


def test_a_second_connection_breaks_diversity_and_bandwidth_on_its_row(browser):
    draft = browser.draft()
    browser.post(f"/api/drafts/{draft}/basics", {"lab": "h5unit", "peer-asn": "64500"})
    browser.post(f"/api/drafts/{draft}/connections", {"location": "sea", "bandwidth-gbps": "20"})
    second = browser.post(f"/api/drafts/{draft}/connections",
                          {"location": "sea", "bandwidth-gbps": "40"})
    assert "MAPS-ROUTER-DIVERSITY" in rules_on(second, "connections[1]")
    assert "MAPS-SAME-BANDWIDTH" in rules_on(second, "connections[1].bandwidth-gbps")
    removed = browser.client.delete(f"/api/drafts/{draft}/connections/1",
                                    headers={"X-CSRF-Token": browser.csrf, "Origin": BASE})
    assert removed.status_code == 200
    assert not rules_on(removed) & {"MAPS-ROUTER-DIVERSITY", "MAPS-SAME-BANDWIDTH"}


def fill(browser: Browser, asn: str = "64500", lab: str = "h5unit") -> str:
    draft = browser.draft()
    browser.post(f"/api/drafts/{draft}/basics", {"lab": lab, "name": "contoso-ix-h5",
                                                 "peer-asn": asn})
    browser.post(f"/api/drafts/{draft}/connections", {"location": "sea", "bandwidth-gbps": "20"})
    return draft


def test_review_and_create_refuse_until_the_finding_is_fixed(browser, monkeypatch):
    draft = fill(browser, asn="65010")
    review = browser.post(f"/api/drafts/{draft}/review").json()
    errors = [(f["rule"], f["field"], f["tab"]) for f in review["findings"]
              if f["severity"] == "error"]
    assert not review["ok"] and errors == [("MAPS-ASN-PUBLIC", "peering.peer-asn", "basics")]
    refused = browser.post(f"/api/drafts/{draft}/create")
    assert refused.status_code == 422 and not list(browser.portal.workspace.glob("*.yaml"))

    built = []

    class Running:
        degraded: list[str] = []

        def close(self) -> None:
            pass

    def up(path, progress, turnup):
        built.append((Path(path), turnup))
        progress("lab is up")
        return Running()
    monkeypatch.setattr(views_create.lifecycle, "up", up)
    browser.post(f"/api/drafts/{draft}/basics", {"peer-asn": "64500"})
    created = browser.post(f"/api/drafts/{draft}/create")
    assert created.status_code == 202
    job = browser.portal.jobs.get(created.json()["job"])
    for _ in range(200):
        if job.done:
            break
        time.sleep(0.01)
    assert job.state == "succeeded", job.error
    (path, turnup), = built
    assert turnup == "manual" and path == browser.portal.workspace / "h5unit.yaml"
    # The file the portal created is one the CLI accepts.
    assert mapslab(["validate", str(path)]) == 0
    assert load(path).peering.peer_asn == 64500


# ---- file → portal → file ----

def opened(browser: Browser, path: Path) -> str:
    answer = browser.post("/api/open", {"path": str(path)})
    assert answer.status_code == 200, answer.text
    return answer.json()["draft"]


def test_a_file_opened_and_written_back_means_the_same(browser, tmp_path):
    source = ROOT / "topologies" / "seattle.yaml"
    draft = opened(browser, source)
    page = browser.get(f"/create/{draft}").text
    assert 'value="contoso-ix-seattle"' in page and 'value="64500"' in page
    written = browser.get(f"/create/{draft}/topology.yaml").text
    assert parse(written, "portal") == load(source)
    again = tmp_path / "again.yaml"
    again.write_text(written)
    rewritten = browser.get(f"/create/{opened(browser, again)}/topology.yaml").text
    assert yaml.safe_load(rewritten) == yaml.safe_load(written)


def test_own_router_configs_keep_pointing_at_the_same_files(browser, tmp_path):
    source = ROOT / "topologies" / "seattle-own-routers.yaml"
    draft = opened(browser, source)
    saved = Path(browser.post(f"/api/drafts/{draft}/save").json()["file"])
    assert saved.parent == browser.portal.workspace
    assert resolve(load(saved), saved.parent) == resolve(load(source), source.parent)


def test_a_file_the_cli_refuses_does_not_open(browser, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump({"lab": "h5unit", "peering": {"name": "x"}}))
    answer = browser.post("/api/open", {"path": str(bad)})
    assert answer.status_code == 422 and "missing required field" in answer.json()["error"]
    assert browser.post("/api/open", {"path": str(tmp_path / "none.yaml")}).status_code == 400
    secret = tmp_path / "secret.conf"
    secret.write_text("password: hunter2\n")
    refused = browser.post("/api/open", {"path": str(secret)})
    assert refused.status_code == 400 and "not a topology file" in refused.json()["error"]
    assert "hunter2" not in refused.text


# ---- mapslab portal ----

@pytest.mark.parametrize("listen,expected", [
    ("127.0.0.1", "http://127.0.0.1:9/?token=T"), ("::1", "http://[::1]:9/?token=T"),
    ("0.0.0.0", "http://127.0.0.1:9/?token=T"), ("localhost", "http://localhost:9/?token=T")])
def test_the_printed_address(listen, expected):
    assert server.url(listen, 9, "T") == expected


def test_mapslab_portal_serves_on_loopback_and_stops_on_ctrl_c(tmp_path):
    process = subprocess.Popen([sys.executable, "-m", "emulator.cli.main", "portal", "--port",
                                "0", "--dir", str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        ready, _, _ = select.select([process.stdout], [], [], 30)
        assert ready, "mapslab portal printed nothing"
        line = process.stdout.readline()
        found = re.fullmatch(r"portal at http://127\.0\.0\.1:(\d+)/\?token=(\S+)\n", line)
        assert found, line
        port, token = int(found[1]), found[2]
        connection = HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/")
        assert connection.getresponse().status == 401
        connection.close()
        connection = HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", f"/?token={token}")
        answer = connection.getresponse()
        assert answer.status == 303 and "HttpOnly" in answer.getheader("set-cookie")
        connection.close()
    finally:
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "labs are left as they are" in out and "Traceback" not in err


# ---- every asset ships, nothing is fetched ----

WEB = ROOT / "emulator" / "web"


def test_every_asset_is_package_data():
    import fnmatch
    import tomllib
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())[
        "tool"]["setuptools"]["package-data"]["emulator.web"]
    assets = [p.relative_to(WEB).as_posix() for folder in ("templates", "static")
              for p in (WEB / folder).iterdir()]
    assert assets and [a for a in assets if not any(fnmatch.fnmatch(a, p) for p in patterns)] == []


def test_no_page_loads_anything_from_elsewhere():
    remote = re.compile(r"""(src|href|action)\s*=\s*["']?(https?:)?//|url\(\s*["']?(https?:)?//|"""
                        r"""fetch\(\s*["']https?:|@import""", re.I)
    found = [f"{p.name}: {m.group(0)}" for folder in ("templates", "static")
             for p in (WEB / folder).iterdir() for m in remote.finditer(p.read_text())]
    assert found == []


def test_a_port_in_use_is_one_clear_line_and_exit_2(capsys, tmp_path):
    import socket
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    try:
        code = mapslab(["portal", "--port", str(taken.getsockname()[1]), "--dir", str(tmp_path)])
    finally:
        taken.close()
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: cannot listen on 127.0.0.1 port ")
    assert "Traceback" not in err


def test_the_connection_dialogs_md5_key_goes_to_the_file_and_is_never_shown_back(browser):
    draft = browser.draft()
    browser.post(f"/api/drafts/{draft}/basics", {"lab": "h5unit", "peer-asn": "64500"})
    answer = browser.post(f"/api/drafts/{draft}/connections",
                          {"location": "sea", "bandwidth-gbps": "20", "md5-key": "contoso-ix-1"})
    shown = answer.json()["values"]["connections"][0]
    assert shown["md5"] is True and "contoso-ix-1" not in answer.text
    review = browser.post(f"/api/drafts/{draft}/review").json()
    assert "md5-key: contoso-ix-1" in review["topology"]       # the file the user downloads
    # A key no router can take is a finding on the connection, without the key in it.
    second = browser.post(f"/api/drafts/{draft}/connections",
                          {"location": "sea", "bandwidth-gbps": "20", "md5-key": "two words"})
    assert "FORMAT" in rules_on(second, "connections[1].md5-key")
    assert "two words" not in second.text
