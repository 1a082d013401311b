"""The portal in a real headless Chromium (Debian's chromium and chromedriver, selenium): a
turn-up walked as a user walks it, on a real lab.

Create with a private ASN → the MAPS-ASN-PUBLIC finding on the ASN field → fix it → create →
the connection reaches Active → register the ASN → copy its key → activate a prefix → see it
optimized in the lab view → read the emails; a fault injected from the lab view shows on the
timeline, recovery reports the probe's figures; the lab removed from the CLI meanwhile is
told, not crashed on. A screenshot of every step goes to out/portal/ (MAPSLAB_TEST_OUTPUT),
kept after the run.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from emulator.core import wait
from emulator.core.errors import WaitTimeout
from emulator.core.labdir import LabDir
from emulator.lab import lifecycle
from tests.conftest import ROOT

LAB = "h5walk"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
SHOTS = Path(os.environ.get("MAPSLAB_TEST_OUTPUT", ROOT / "out" / "portal"))
# Deployment: the whole of `mapslab up` (LACP, then BGP, then the prefixes).
DEPLOY_SECONDS = sum(wait.BUDGETS[b] for b in ("lacp_setup", "ebgp_session", "prefixes"))
# Recovery: settle (LACP, BGP, prefixes) and the probe.
MD5_KEY = "contoso-ix-walk"
RECOVER_SECONDS = sum(wait.BUDGETS[b] for b in ("lacp_recovery", "ebgp_session", "prefixes"))

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
                       reason="needs Debian's chromium and chromium-driver (make setup)"),
]


@pytest.fixture
def portal_url(tmp_path):
    """`mapslab portal` on a free loopback port; Ctrl-C at the end, as a user stops it."""
    log = tmp_path / "portal.out"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "emulator.cli.main", "portal", "--port", "0", "--dir",
             str(tmp_path / "workspace")], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        line = wait.until("daemon_socket", lambda: log.read_text(),
                          lambda text: "" if "portal at " in text else "no address printed yet")
        yield re.search(r"portal at (\S+)", line)[1]
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=wait.BUDGETS["process_exit"] * 4)
        finally:
            if process.poll() is None:
                process.kill()
    text = log.read_text()
    assert process.returncode == 0, text
    assert "labs are left as they are" in text and "Traceback" not in text


@pytest.fixture
def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    options = Options()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1360,1000"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)),
                              options=options)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def lab_removed_afterwards():
    lifecycle.down(LAB)
    yield
    lifecycle.down(LAB)
    assert lifecycle.leftovers(LAB) == []


class Walk:
    """The browser, and a numbered screenshot for every step."""

    def __init__(self, driver):
        self.driver = driver
        self.step = 0
        if SHOTS.exists():
            shutil.rmtree(SHOTS)
        SHOTS.mkdir(parents=True)

    def shot(self, name: str, focus: str | None = None) -> Path:
        """Save the window as the step's PNG, scrolled to `focus` if given."""
        self.step += 1
        path = SHOTS / f"{self.step:02d}-{name}.png"
        if focus:
            self.driver.execute_script(
                "document.querySelector(arguments[0]).scrollIntoView({block: 'center'})", focus)
        self.driver.save_screenshot(str(path))
        return path

    def find(self, css: str):
        from selenium.webdriver.common.by import By
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def all(self, css: str):
        from selenium.webdriver.common.by import By
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def shown(self, css: str, budget: str = "prefixes", seconds: float | None = None,
              text: str | None = None):
        """Wait (a named budget) until an element is displayed, with `text` in it if given."""
        from selenium.common.exceptions import StaleElementReferenceException

        def look():
            try:
                found = [e for e in self.all(css) if e.is_displayed()]
                return [e for e in found if text is None or text in e.text]
            except StaleElementReferenceException:      # the live state re-drew it: look again
                return []

        try:
            return wait.until(budget, look, lambda found: "" if found else
                              f"nothing shows {css!r}" + (f" with {text!r}" if text else ""),
                              seconds)[0]
        except WaitTimeout:
            self.shot("timed-out")
            raise

    def click(self, css: str) -> None:
        self.shown(css).click()

    def type(self, css: str, value: str) -> None:
        field = self.shown(css)
        field.clear()
        field.send_keys(value)


def test_a_turn_up_through_the_portal(portal_url, browser, lab_removed_afterwards):
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select
    walk = Walk(browser)
    browser.get(portal_url)
    walk.shown("#peerings")
    assert "token=" not in browser.current_url            # the token became the cookie
    walk.shot("peerings")

    # Create: Basics with a private ASN.
    walk.click("#create")
    walk.type("#f-resource-group", "rg-contoso-peering")
    walk.type("#f-name", "contoso-ix-h5walk")
    walk.type("#f-peer-asn", "65010")
    walk.type("#f-lab", LAB)
    walk.shot("basics")
    walk.click("#basics-next")
    walk.shown('[data-pane="configuration"]')
    # Configuration: the connection dialog, at a metro the lab knows.
    walk.click("#connection-new")
    Select(walk.shown("#c-location")).select_by_value("sea")
    Select(walk.find("#c-bandwidth")).select_by_value("20")
    assert walk.find("#c-provider").get_attribute("value") == "Peer"
    assert walk.find("#c-peering-service").is_selected()
    walk.type("#c-md5", MD5_KEY)                          # optional: TCP MD5 on its sessions
    walk.shot("connection-dialog")
    walk.click("#connection-save")
    row = walk.shown('#connections tr[data-field="connections[0]"]', text="sea-1")
    assert row.find_element("css selector", "td.md5").text == "Set"
    assert MD5_KEY not in browser.page_source             # never shown back
    walk.shot("configuration")
    walk.click("#configuration-next")
    walk.shown("#review-verdict.bad", text="Validation failed")
    walk.shot("review-fails")
    # Create is refused: the finding lands on the ASN field of Basics.
    walk.click("#create-submit")
    finding = walk.shown('[data-field="peering.peer-asn"] .finding[data-rule="MAPS-ASN-PUBLIC"]')
    assert "AS65010" in finding.text and "MUST be public" in finding.text
    assert walk.find('[data-pane="basics"]').is_displayed()
    walk.shot("finding-on-asn")

    # Fix it, review again, create.
    walk.type("#f-peer-asn", "64500")
    walk.click("#tab-review")
    walk.shown("#review-verdict.good", text="Validation passed")
    walk.shot("review-passes")
    walk.click("#create-submit")
    walk.shown("#job-log", text="deploying")
    walk.shot("deployment-progress")
    walk.shown("#go-to-resource", "ebgp_session", DEPLOY_SECONDS)
    walk.shot("deployment-complete")

    # The peering: the connection reaches Active (live).
    walk.click("#go-to-resource")
    walk.shown('#connections tr[data-connection="sea-1"] td.state', "ebgp_session",
               text="Active")
    assert walk.find("#essentials input[value='64500']").get_attribute("readonly") is not None
    with lifecycle.attached(LAB) as running:          # Active with the key on every session
        assert {s.md5_key for s in running.plan.sessions if s.interconnect} == {MD5_KEY}
    walk.shot("peering-active")
    walk.click("nav.side a[href='/']")
    walk.shown(f'#peerings tr[data-lab="{LAB}"]', text="Active")
    walk.shot("peerings-with-the-peering")
    walk.click(f'#peerings tr[data-lab="{LAB}"] a')

    # Registered ASNs: register the member's ASN, copy its key.
    walk.click("#nav-asns")
    walk.type("#asn-name", "fabrikam-voice")
    walk.type("#asn-asn", "64501")
    walk.click("#asn-submit")
    key = walk.shown("#asn-key").get_attribute("value")
    assert re.fullmatch(r"[0-9a-f-]{36}", key), key
    walk.click("#asn-copy")
    walk.shown("#asn-copied", text="Copied")
    walk.shown("#asns input#key-64501")                   # the table lists it too
    walk.shot("asn-registered")

    # Prefixes: activate the member's prefix with the key, pasted.
    walk.click("#nav-prefixes")
    Select(walk.shown("#prefix-prefix")).select_by_value("198.51.100.0/24")
    field = walk.shown("#prefix-key")
    field.click()
    field.send_keys(Keys.CONTROL, "v")
    assert field.get_attribute("value") == key            # the copied key, pasted
    walk.shot("prefix-key-pasted")
    walk.click("#prefix-submit")
    walk.shown('#prefixes tr[data-prefix="198.51.100.0/24"]', text="Verified")
    walk.shot("prefix-activated")

    # The lab view: every edge holds the prefix optimized.
    walk.click("#nav-lab")
    optimized = 'tr[data-prefix="198.51.100.0/24"][data-outcome="optimized"]'
    wait.until("prefixes", lambda: len(walk.all(optimized)),
               lambda n: "" if n == 2 else f"{n} of 2 edges show 198.51.100.0/24 optimized")
    walk.shown("#lag-sea-1-a.up")
    walk.shot("lab-view")
    walk.shot("lab-view-optimized", focus="#routes")

    # The emails, newest first, each readable.
    walk.click("#nav-notifications")
    newest = walk.shown("#notifications tbody tr:first-child a.message")
    assert "198.51.100.0/24 activated" in newest.text
    walk.shot("notifications")
    registered = [a for a in walk.all("a.message") if "Registered ASN" in a.text]
    registered[0].click()
    assert key in walk.shown("#message-body").text
    walk.shot("email-prefix-key")

    # A fault from the lab view, on the timeline; then recovery with the probe's figures.
    walk.click("#nav-lab")
    Select(walk.shown("#fault-scenario")).select_by_value("member-down")
    Select(walk.find("#fault-target")).select_by_value("sea-1-a")
    walk.click("#fault-inject")
    walk.shown("#fault-result", text="Injected member-down")
    walk.shown("#timeline tr.ev-fault", text="member-down")
    walk.shown("#faults", text="member-down sea-1-a")
    walk.shown("#member-sea-1-a-1.down", "lacp_setup")       # LACP: the member left the bundle
    walk.shot("fault-on-drawing")
    walk.shot("fault-on-timeline", focus="#timeline")
    walk.click("#run-checks")
    walk.shown("#checks details", "ebgp_session")
    walk.shot("checks", focus="#checks")
    walk.click("#recover")
    walk.shown('#recover-log[data-state="succeeded"]', "lacp_recovery", RECOVER_SECONDS)
    assert re.search(r"sent \d+, lost \d+", walk.find("#recover-log").text)
    walk.shown("#timeline tr.ev-recover")
    walk.shot("recovered-with-probe", focus="#recover-log")

    # A router program dies: the lab view names it; Recover starts it again.
    pid_file = LabDir(LAB).node("sea-pr1") / "bgpd.pid"
    os.kill(int(pid_file.read_text().split()[0]), signal.SIGKILL)
    gone = walk.shown('#stopped li[data-node="sea-pr1"][data-program="bgpd"]', "process_exit")
    assert "sea-pr1: bgpd not running" in gone.text
    walk.shot("program-stopped", focus="#stopped")
    walk.click("#recover")
    walk.shown('#recover-log[data-state="succeeded"]', "ebgp_session", RECOVER_SECONDS,
               text="restarted sea-pr1's bgpd")
    wait.until("daemon_socket", lambda: walk.find("#stopped").is_displayed(),
               lambda shown: "the lab view still lists a stopped program" if shown else "")
    walk.shot("program-restarted", focus="#recover-log")

    # The lab removed from the CLI meanwhile: the open page says so, a reload gets a clear page.
    lifecycle.down(LAB)
    walk.shown("#gone", text="not up any more")
    walk.shot("lab-removed-live", focus="#gone")
    browser.refresh()
    assert "This lab is not up" in walk.shown("#error-title").text
    walk.shot("lab-removed-page")
    assert len(list(SHOTS.glob("*.png"))) == walk.step
