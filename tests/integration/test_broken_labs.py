"""Broken turn-ups are caught by the checks, with evidence, instead of hanging or passing."""
from __future__ import annotations

import pytest

from emulator.judge import checks
from emulator.lab import lifecycle as lab_module
from emulator.core import wait
from tests.integration.conftest import topology_copy

pytestmark = pytest.mark.integration


def _with(path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, count))


def _microsoft(path, extra: str) -> None:
    _with(path, "microsoft:\n  max-prefix: 500\n", f"microsoft:\n  max-prefix: 500\n{extra}")


def test_lacp_passive_on_both_ends_never_brings_the_lag_up(tmp_path, monkeypatch):
    name = "itpassive"
    lab_module.down(name)
    path = topology_copy(tmp_path, name)
    _with(path, "lacp: active", "lacp: passive")          # sea-pr1 only
    _microsoft(path, "  lacp: passive\n")
    # IEEE 802.1AX-2014 6.4.13: passive/passive never transmits; a short budget is enough.
    monkeypatch.setitem(wait.BUDGETS, "lacp_setup", 4.0)
    running = lab_module.up(path)
    try:
        assert running.degraded and "sea-1-a" in running.degraded[0]
        lag_check = checks.lag_before_bgp(running)
        mesh = checks.mesh_formed(running)
        assert not lag_check.passed and not mesh.passed
        assert any("sea-1-a" in e and "never came up" in e for e in lag_check.evidence), lag_check
        assert any(e.startswith("sea-1-a-v4") and "Established" not in e for e in mesh.evidence), mesh
        # The other link, LACP active on the peer side, came up as usual.
        assert any(e.startswith("sea-1-b-v4") and e.endswith("Established") for e in mesh.evidence)
    finally:
        running.close()
        lab_module.down(name)
    assert lab_module.leftovers(name) == []


def test_bgp_configured_before_the_lag_is_reported(tmp_path):
    name = "itnolacp"
    lab_module.down(name)
    path = topology_copy(tmp_path, name)
    # Static bundles on both ends and an edge that does not wait: BGP comes up with no LACP.
    _with(path, "lacp: active", "lacp: off", count=2)
    _microsoft(path, "  lacp: off\n  bgp-waits-for-lacp: false\n")
    running = lab_module.up(path, validate_rules=False)
    try:
        verdict = checks.lag_before_bgp(running)
        assert not verdict.passed, verdict
        # No LACP: the LAG is never up (802.1AX-2014 6.4.2.3: never collecting/distributing);
        # the monitor either recorded it down or never saw it at all before BGP came up.
        assert any("Established" in e and ("never seen up" in e or "with the LAG down" in e)
                   for e in verdict.evidence), verdict
        assert checks.mesh_formed(running).passed
    finally:
        running.close()
        lab_module.down(name)
    assert lab_module.leftovers(name) == []


# ---- checks that hold on a good lab, each shown failing on a lab broken for it ----

@pytest.fixture(scope="module")
def breakable(tmp_path_factory):
    """The default lab, broken and mended by the tests below one at a time."""
    from tests.integration.conftest import lab_named
    name = "itbreak"
    with lab_named(name, topology_copy(tmp_path_factory.mktemp("topo"), name)) as running:
        yield running


def _until(check, lab, failing: bool):
    """The check's verdict once it fails (or passes again), within the prefixes budget."""
    return wait.until("prefixes", lambda: check(lab),
                      lambda v: "" if v.passed is not failing else f"{v.check}: {v.summary}")


def _failing_with(check, lab, line: str):
    """The check's verdict once it fails with `line` among its evidence. A reset session is Idle
    or Connect for a moment before it is Established again: the check fails then too, but for
    another reason than the one under test."""
    return wait.until("prefixes", lambda: check(lab),
                      lambda v: "" if not v.passed and line in v.evidence else
                      f"{v.check}: {v.summary}; not yet among the evidence: {line!r}")


def _mended(lab) -> None:
    """Every route back where it was (a reset session re-sends its routes)."""
    for check in (checks.microsoft_prefixes, checks.peer_prefixes, checks.no_readvertisement):
        _until(check, lab, failing=False)


def _vtysh(lab, node: str, *commands: str) -> None:
    d = lab.node_dir(node)
    argv = ["vtysh", "--vty_socket", str(d)]
    for command in commands:
        argv += ["-c", command]
    lab.runtime.run(node, argv)


def _route_map(lab, neighbor: str, direction: str, old: str | None, new: str | None) -> None:
    """Swap a route-map on sea-pr1's IPv4 neighbor and reset the session (ExaBGP has no route
    refresh: a hard reset is how a new inbound policy takes effect)."""
    lines = ["configure terminal", "route-map DENY-ALL deny 10", "router bgp 64500",
             "address-family ipv4 unicast"]
    if old:
        lines.append(f"no neighbor {neighbor} route-map {old} {direction}")
    if new:
        lines.append(f"neighbor {neighbor} route-map {new} {direction}")
    _vtysh(lab, "sea-pr1", *lines, "end", f"clear bgp {neighbor}")


def test_an_edge_leaking_the_peers_prefixes_fails_no_readvertisement(breakable):
    from emulator.judge import scenarios
    assert checks.no_readvertisement(breakable).passed
    scenarios.inject(breakable, "edge-leak", "sea-ms1")
    try:
        # The two families' sessions to the internet carry the leak each at its own pace: the
        # check fails at the first leaked route; wait until both families' are there.
        wanted = {"leaked: 192.0.2.0/24 (from sea-ms1)", "leaked: 2001:db8:200::/48 (from sea-ms1)"}
        verdict = wait.until("prefixes", lambda: checks.no_readvertisement(breakable),
                             lambda v: "" if wanted <= set(v.evidence) else
                             f"{v.check}: {v.summary}; not yet: {sorted(wanted - set(v.evidence))}")
        assert not verdict.passed, verdict
    finally:
        scenarios.recover(breakable)
    assert checks.no_readvertisement(breakable).passed
    _mended(breakable)


def test_a_peer_router_refusing_microsofts_routes_fails_microsoft_prefixes(breakable):
    _mended(breakable)
    assert checks.microsoft_prefixes(breakable).passed
    _route_map(breakable, "198.18.0.1", "in", None, "DENY-ALL")
    try:
        verdict = _failing_with(checks.microsoft_prefixes, breakable,
                                "sea-pr1 session sea-1-a-v4 from sea-ms1 198.18.0.1: "
                                "Established, 0/280 received")
        assert not verdict.passed
    finally:
        _route_map(breakable, "198.18.0.1", "in", "DENY-ALL", None)
        _mended(breakable)


def test_a_peer_router_announcing_nothing_on_a_link_fails_peer_prefixes(breakable):
    _mended(breakable)
    assert checks.peer_prefixes(breakable).passed
    _route_map(breakable, "198.18.0.1", "out", "TO-MICROSOFT", "DENY-ALL")
    try:
        verdict = _failing_with(checks.peer_prefixes, breakable,
                                "sea-ms1 (sea-1-a): 3/6, missing ['192.0.2.0/24', "
                                "'198.51.100.0/24', '203.0.113.0/24']")
        assert not verdict.passed
    finally:
        _route_map(breakable, "198.18.0.1", "out", "DENY-ALL", "TO-MICROSOFT")
        _mended(breakable)


def test_a_killed_daemon_is_named_by_status_and_check_and_recover_restarts_it(breakable):
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path
    from emulator.observe import status
    mapslab = str(Path(sys.executable).with_name("mapslab"))
    from emulator.nodes import daemon
    killed = [int(pid_file.read_text().split()[0])
              for pid_file in (breakable.node_dir("sea-pr1") / "bgpd.pid",
                               breakable.node_dir("sea-ms2") / "exabgp" / "exabgp.pid")]
    for pid in killed:
        os.kill(pid, signal.SIGKILL)
    # kill(2) returns before the process is gone: wait until /proc says so.
    wait.until("process_exit", lambda: [pid for pid in killed if daemon.alive(pid)],
               lambda alive: f"still alive: {alive}" if alive else "")
    seen = status.status_table(status.status(breakable))
    assert "sea-pr1: bgpd not running" in seen and "sea-ms2: exabgp not running" in seen
    assert "sea-1-a-v4               sea-pr1    sea-ms1    198.18.0.1           bgpd stopped" in seen
    mesh = checks.run_all(breakable)[1]
    assert mesh.check == "mesh-formed" and not mesh.passed
    assert mesh.evidence[0].startswith("sea-pr1: bgpd not running"), mesh
    assert "sea-1-a-v4 sea-pr1 → sea-ms1 198.18.0.1: bgpd stopped" in mesh.evidence
    done = subprocess.run([mapslab, "recover", breakable.plan.lab], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "restarted sea-pr1's bgpd" in done.stdout and "restarted sea-ms2's exabgp" in done.stdout
    assert [v.check for v in checks.run_all(breakable) if not v.passed] == []


def test_a_killed_ovs_vswitchd_is_named_and_recover_rebuilds_its_lags_before_bgp(breakable):
    """The process that speaks LACP for a router dies: status and check name it, its LAGs read
    down; `recover` rebuilds them and gives the edge its BGP back only after each LAG is up."""
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path
    from emulator.core.events import EventKind
    from emulator.nodes import daemon
    from emulator.observe import status
    mapslab = str(Path(sys.executable).with_name("mapslab"))
    pid = int((breakable.node_dir("sea-ms1") / "ovs" / "vswitchd.pid").read_text().split()[0])
    os.kill(pid, signal.SIGKILL)
    wait.until("process_exit", lambda: daemon.alive(pid),
               lambda alive: f"ovs-vswitchd (pid {pid}) still alive" if alive else "")
    seen = status.status_table(status.status(breakable))
    assert f"sea-ms1: ovs-vswitchd (LACP) not running (pid {pid} in vswitchd.pid)" in seen, seen
    lag_line = next(line for line in seen.splitlines() if line.startswith("  sea-1-a "))
    assert "sea-ms1 lag0 DOWN" in lag_line, seen
    # The link's sessions last until their hold timer expires (RFC 4271 6.5; 10 s here): the
    # tap device of the bridge outlives the daemon, but nothing forwards on it.
    wait.until("ebgp_session", lambda: checks.mesh_formed(breakable),
               lambda v: "" if not v.passed else f"mesh still formed: {v.summary}")
    mesh = checks.run_all(breakable)[1]
    assert mesh.check == "mesh-formed" and not mesh.passed
    assert mesh.evidence[0].startswith("sea-ms1: ovs-vswitchd (LACP) not running"), mesh
    before = len(breakable.dir.events())
    done = subprocess.run([mapslab, "recover", breakable.plan.lab], capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "restarted sea-ms1's ovs-vswitchd" in done.stdout, done.stdout
    assert [v.check for v in checks.run_all(breakable) if not v.passed] == []
    # After the restart: the link's BGP configured again only after its LAG came up again.
    after = [e for e in breakable.dir.events()[before:] if e.get("lag") == "sea-1-a"]
    kinds = [e["kind"] for e in after]
    assert EventKind.BGP_CONFIGURED.value in kinds, after
    assert EventKind.LAG_UP.value in kinds[:kinds.index(EventKind.BGP_CONFIGURED.value)], after


def test_the_topologys_firewall_and_rate_limit_flags_configure_the_router(tmp_path):
    """`stateful-firewall: true` and `rate-limit: true`: refused by validation, built anyway with
    --skip-validation, and then really on the routers, where peer-devices finds them."""
    from emulator.core.errors import ValidationFailed
    from tests.integration.conftest import lab_named
    name = "itflags"
    lab_module.down(name)
    path = topology_copy(tmp_path, name)
    _with(path, "    max-prefix: 500\n", "    max-prefix: 500\n    stateful-firewall: true\n")
    text = path.read_text()
    second = text.index("software: frr", text.index("stateful-firewall"))
    path.write_text(text[:second] + "rate-limit: true\n    " + text[second:])
    with pytest.raises(ValidationFailed):
        lab_module.up(path)
    assert lab_module.leftovers(name) == []
    with lab_named(name, path, validate_rules=False) as running:
        verdict = checks.peer_devices(running)
        assert not verdict.passed, verdict
        assert ("sea-pr1: stateful firewall rule: ct state established,related accept "
                "(table inet mapslab_peer, chain input)") in verdict.evidence, verdict
        assert any(e.startswith('sea-pr2: rate limit: nftables: oifname "lag1" limit rate over')
                   for e in verdict.evidence), verdict
        assert not any(e.startswith("sea-pr1: rate limit") or
                       e.startswith("sea-pr2: stateful") for e in verdict.evidence), verdict
        assert checks.mesh_formed(running).passed       # the rules let the lab converge


def test_members_sessions_carry_their_routes_once_the_lab_is_up(tmp_path):
    """Right after `up` every member's session with the route server carries what the route
    server has for it (Microsoft's prefixes and the others'), and what it sends (its own)."""
    import re
    from tests.conftest import ROOT
    from tests.integration.conftest import lab_named
    from emulator.observe import status
    name = "itcounts"
    source = ROOT / "topologies" / "seattle-arouteserver.yaml"
    text = re.sub(r"^lab: .*$", f"lab: {name}", source.read_text(), count=1, flags=re.M)
    text = re.sub(r"config: (\S+)", lambda m: f"config: {(source.parent / m.group(1)).resolve()}",
                  text)
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    with lab_named(name, path) as running:
        plan = running.plan
        rows = {s.session: s for s in status.status(running).sessions if s.node == "fabrikam"}
    own = set(plan.node("fabrikam").announces)
    for family, session in (("ipv4", "fabrikam-rs-v4"), ("ipv6", "fabrikam-rs-v6")):
        v6 = family == "ipv6"
        others = {p for p in plan.exchange_prefixes() if (":" in p) == v6} - own
        microsoft = [p for p in plan.microsoft_prefixes if (":" in p) == v6]
        assert rows[session].prefixes_received == len(microsoft) + len(others), rows[session]
        assert rows[session].prefixes_sent == 1, rows[session]
