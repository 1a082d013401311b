"""The user's own router configurations, judged: every topologies/broken/ topology carries a
classic mistake in the user's file and fails the check its first line names, with exit 3; a
configuration the program itself rejects stops `up` with exit 2 before anything is created."""
from __future__ import annotations

import re
import subprocess

import pytest

from emulator.lab import lifecycle as lab_module
from tests.conftest import ROOT

pytestmark = pytest.mark.integration

MAPSLAB = str(ROOT / ".venv" / "bin" / "mapslab")
BROKEN = sorted((ROOT / "topologies" / "broken").glob("*.yaml"))
# What each failing check must point at in its evidence: the cause, not just "failed".
CAUSE = {
    "max-prefix": r"sea-pr1 \(frr\) neighbor 198\.18\.0\.1 AS8075 ipv4: (no prefix limit|prefix limit 100000)",
    "both-families": r"sea-1-a ipv6: sea-pr1 2001:db8:ffff:: → sea-ms1: (never seen|down)",
    "mesh-formed": r"sea-1-a-v4 sea-pr1 → sea-ms1 198\.18\.0\.1: (Idle|Active|Connect|Unknown)",
    "no-leak-to-microsoft": r"sea-ms1 \(sea-1-a\) received \S+ from 198\.18\.0\.0: ",
    "lag-before-bgp": r"sea-1-a: no session of this link reached Established; the LAG never came up",
}

# ...and where a topology's mistake needs more than its check's usual cause to be told apart.
CAUSE_OF = {
    "md5-missing": r"sea-ms1: \d+ TCP segment\(s\) dropped that carried no MD5 signature where "
                   r"this router has a key for the peer \(TcpExtTCPMD5NotFound, RFC 2385\)",
}


def _expect(path) -> str:
    first = path.read_text().splitlines()[0]
    found = re.fullmatch(r"# expect: (\S+)", first)
    assert found, f"{path.name}: the first line must be '# expect: CHECK'"
    return found.group(1)


def _lab(path) -> str:
    return re.search(r"^lab: (\S+)", path.read_text(), re.M).group(1)


@pytest.mark.parametrize("path", BROKEN, ids=[p.stem for p in BROKEN])
def test_broken_configuration_fails_its_check(path):
    check, lab = _expect(path), _lab(path)
    lab_module.down(lab)
    try:
        result = subprocess.run([MAPSLAB, "demo", str(path)], capture_output=True, text=True,
                                timeout=300)
    finally:
        lab_module.down(lab)
    assert result.returncode == 3, result.stdout[-3000:] + result.stderr[-2000:]
    verdict = re.search(rf"^FAIL  {re.escape(check)} .*?(?=^(PASS|FAIL)  |\Z)", result.stdout,
                        re.M | re.S)
    assert verdict, f"{check} did not fail:\n{result.stdout[-3000:]}"
    assert re.search(CAUSE[check], verdict.group(0)), verdict.group(0)
    if path.stem in CAUSE_OF:
        assert re.search(CAUSE_OF[path.stem], verdict.group(0)), verdict.group(0)
    assert lab_module.leftovers(lab) == []


def test_syntax_error_exits_2_with_file_and_line_and_creates_nothing():
    path = ROOT / "tests" / "fixtures" / "own-config" / "syntax-error.yaml"
    lab_module.down("itsyntax")
    result = subprocess.run([MAPSLAB, "up", str(path)], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 2, result.stderr
    assert "routers[0].config: frr rejects its configuration:" in result.stderr
    assert "frr-syntax-error.conf:37:" in result.stderr and "remote-ass" in result.stderr
    assert lab_module.leftovers("itsyntax") == []


def _copy(tmp_path, source, lab):
    """A topology under another lab name, its config paths made absolute."""
    text = source.read_text()
    text = re.sub(r"^lab: .*$", f"lab: {lab}", text, count=1, flags=re.M)
    text = re.sub(r"config: (\S+)", lambda m: f"config: {(source.parent / m.group(1)).resolve()}",
                  text)
    path = tmp_path / f"{lab}.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("source,lab,passes", [
    ("topologies/seattle.yaml", "itflood", True),
    ("topologies/broken/no-max-prefix.yaml", "itfloodbad", False),
], ids=["limit-500", "no-limit"])
def test_prefix_flood_judges_the_peers_prefix_limit_in_behaviour(tmp_path, source, lab, passes):
    """The edge announces 550 IPv4 prefixes on link A: a peer with a limit in 400-500 drops the
    session and installs none of them all; one without a limit installs every one."""
    from emulator.judge import harness
    from tests.integration.conftest import lab_named
    with lab_named(lab, _copy(tmp_path, ROOT / source, lab)) as running:
        result = harness.run(running, "prefix-flood", "sea-1-a")
        verdict = harness.judge(result)
    assert verdict.passed is passes, verdict
    if not passes:
        assert any("sea-pr1 installed all" in e and "no prefix limit" in e
                   for e in verdict.evidence), verdict.evidence
    else:
        assert result.session_drops >= 1          # the limit tripped: the session went down
