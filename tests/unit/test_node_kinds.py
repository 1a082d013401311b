"""The peer-router kinds BIRD, OpenBGPD and GoBGP: lab-made configurations (goldens, policy, the
program's own check), the observation parsers against outputs recorded from real daemons
(tests/fixtures/nodes/README.md), start-up through a recording host, and fib_sync's bookkeeping.

Regenerate the goldens with MAPSLAB_REGOLD=1 after an intended change, and read the diff.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from emulator.nodes import bird, fib_sync, gobgp, openbgpd, registry
from emulator.nodes.base import RouterView
from emulator.plan.model import Role
from emulator.plan.resolve import resolve
from emulator.topology.loader import load
from tests.conftest import FIXTURES, ROOT, regold

NODES = FIXTURES / "nodes"
GOLDEN = NODES / "golden"
BASE = resolve(load(ROOT / "topologies" / "seattle.yaml"))
PEERS = ("sea-pr1", "sea-pr2")
PROGRAMS = {"bird": "bird", "openbgpd": "bgpd", "gobgp": "gobgpd"}
SUFFIX = {"bird": "bird.conf", "openbgpd": "bgpd.conf", "gobgp": "gobgpd.toml"}


def plan_with(software: str):
    nodes = tuple(replace(n, software=software) if n.name in PEERS else n for n in BASE.nodes)
    return replace(BASE, nodes=nodes)


def rendering(software: str, name: str, d: Path = Path("/run/mapslab/seattle/nodes/x")) -> str:
    plan = plan_with(software)
    node = plan.node(name)
    return registry.kind_of(node).render(plan, node, d)


def fixture(*parts: str) -> str:
    return (NODES.joinpath(*parts)).read_text()


def needs(program: str) -> None:
    if not shutil.which(program):
        pytest.skip(f"{program} is not installed (Debian {dict(bird='bird2', bgpd='openbgpd', gobgpd='gobgpd')[program]})")


# --- the registry ------------------------------------------------------------------------------

def test_every_program_is_a_peer_router_kind():
    assert set(registry.softwares(Role.PEER_ROUTER)) >= {"frr", "bird", "openbgpd", "gobgp"}
    for software in ("bird", "openbgpd", "gobgp"):
        kind = registry.kinds()[software]
        assert kind.software == software and kind.config_name == SUFFIX[software]
        assert registry.kind_of(plan_with(software).node("sea-pr1")) is kind


def test_bird_still_serves_the_exchange():
    roles = registry.kinds()["bird"].roles
    assert {Role.ROUTE_SERVER, Role.MEMBER, Role.INTERNET, Role.PEER_ROUTER} <= roles


# --- lab-made configurations ------------------------------------------------------------------

@pytest.mark.parametrize("software", sorted(SUFFIX))
@pytest.mark.parametrize("name", PEERS)
def test_golden(software, name):
    text = rendering(software, name)
    path = GOLDEN / f"{name}.{SUFFIX[software]}"
    if regold():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert text == path.read_text(), f"{path} differs (MAPSLAB_REGOLD=1 rewrites it)"


@pytest.mark.parametrize("software", sorted(SUFFIX))
def test_rendering_names_no_per_instance_path(software):
    """Sockets and pid files come from the command line, so a user's file needs none."""
    d = Path("/run/mapslab/lab-x/nodes/sea-pr1")
    assert str(d) not in rendering(software, "sea-pr1", d)


def test_openbgpd_policy():
    text = rendering("openbgpd", "sea-pr1")
    assert 'deny to group "microsoft" AS 8075' in text
    assert re.search(r'group "microsoft" \{\n\tremote-as 8075\n\tmax-prefix 500\n', text)
    assert 'match to group "ibgp" set nexthop self' in text
    assert text.count("announce restart no") == 3
    assert "network 192.0.2.0/24 set weight 100" in text and "network 2001:db8:100::/48" in text
    assert "enforce neighbor-as no" in text       # behind a transparent route server
    assert not re.search(r"^\s*socket\b", text, re.M)


def test_gobgp_policy():
    text = rendering("gobgp", "sea-pr1")
    assert 'as-path-list = ["_8075_"]' in text
    assert 'neighbor-info-list = ["198.18.0.1", "2001:db8:ffff::1"]' in text
    assert 'route-disposition = "reject-route"' in text and 'set-next-hop = "self"' in text
    assert text.count("max-prefixes = 500") == 2
    assert text.count('afi-safi-name = "ipv4-unicast"') == 3
    assert text.count("[[neighbors]]") == 6


def test_bird_peer_policy():
    text = rendering("bird", "sea-pr1")
    assert "if bgp_path ~ [= * 8075 * =] then reject;" in text
    assert text.count("receive limit 500 action disable;") == 2
    assert text.count("next hop self;") == 2
    assert text.count("export filter to_microsoft;") == 2
    assert "export where source = RTS_BGP;" in text      # BIRD programs the kernel itself


def test_bird_exchange_renderings_are_not_the_peer_one():
    for name in ("rs", "fabrikam", "internet"):
        assert "to_microsoft" not in bird.render(BASE, BASE.node(name))


@pytest.mark.parametrize("software", sorted(SUFFIX))
@pytest.mark.parametrize("name", PEERS)
def test_program_accepts_the_lab_made_configuration(software, name, tmp_path):
    needs(PROGRAMS[software])
    path = tmp_path / SUFFIX[software]
    path.write_text(rendering(software, name))
    assert registry.kinds()[software].check_config(path) == []


# --- the programs' own checks on broken files ---------------------------------------------------

@pytest.mark.parametrize("software,broken,line,words", [
    ("openbgpd", "openbgpd/broken.conf", 6, "AS 8O75 is bad"),
    ("gobgp", "gobgp/broken.toml", 8, "two dots"),
    ("gobgp", "gobgp/broken-key.toml", 14, "invalid keys: maximum-prefix"),
    ("gobgp", "gobgp/broken.yaml", 3, "yaml: mapping values are not allowed"),
    ("gobgp", "gobgp/broken-key.yaml", 51, "invalid keys: peer-ass"),
    ("bird", "bird/broken.conf", 9, "syntax error"),
])
def test_program_rejects_a_broken_file_with_file_and_line(software, broken, line, words, tmp_path):
    needs(PROGRAMS[software])
    path = tmp_path / Path(broken).name
    shutil.copyfile(NODES / broken, path)
    problems = registry.kinds()[software].check_config(path)
    assert problems, "the program accepted a broken file"
    first = problems[0]
    assert (Path(first.file).resolve(), first.line) == (path.resolve(), line)
    assert words in first.message
    assert first.render().startswith(f"{first.file}:{line}: ")


def test_openbgpd_reports_every_problem(tmp_path):
    needs("bgpd")
    path = tmp_path / "bgpd.conf"
    shutil.copyfile(NODES / "openbgpd" / "broken.conf", path)
    lines = [p.line for p in openbgpd.check_config(path)]
    assert 10 in lines        # the filter's undefined group, after the bad AS


# --- observation parsers against recorded outputs ----------------------------------------------

def by_address(view: RouterView) -> dict[str, tuple]:
    return {n.address: (n.state, n.remote_asn, n.received, n.accepted, n.max_prefix, n.families)
            for n in view.neighbors}


STEADY = {
    "198.18.0.1": ("Established", 8075, 12, 12, 500, ("ipv4",)),
    "2001:db8:ffff::1": ("Established", 8075, 4, 4, 500, ("ipv6",)),
    "100.127.0.1": ("Established", 64511, 2, 2, None, ("ipv4",)),
    "fd00:100:127::1": ("Established", 64511, 2, 2, None, ("ipv6",)),
    "100.127.0.3": ("Established", 64500, 3, 3, None, ("ipv4",)),
    "fd00:100:127::3": ("Established", 64500, 7, 7, None, ("ipv6",)),
}


def test_openbgpd_neighbors_steady():
    view = openbgpd.parse_neighbors("sea-pr1", fixture("openbgpd/steady/bgpctl-show-neighbor.json"),
                                    fixture("openbgpd/steady/bgpctl-show-rib.json"))
    assert view.software == "openbgpd" and view.answered
    assert by_address(view) == STEADY


def test_openbgpd_neighbors_over_limit():
    view = openbgpd.parse_neighbors("sea-pr2",
                                    fixture("openbgpd/over-limit/bgpctl-show-neighbor.json"),
                                    fixture("openbgpd/over-limit/bgpctl-show-rib.json"))
    seen = by_address(view)
    assert seen["198.18.0.3"] == ("Idle", 8075, 0, 0, 500, ("ipv4",))
    # The route server reflects our own and our partner's routes back: received, never
    # accepted (our AS in the path, RFC 4271 9.1.2).
    assert seen["100.127.0.1"][2:4] == (15, 2)
    assert seen["2001:db8:ffff::3"][0] == "Established"


def test_gobgp_neighbors_steady():
    view = gobgp.parse_neighbors("sea-pr1", fixture("gobgp/steady/gobgp-neighbor.json"))
    assert view.software == "gobgp"
    assert by_address(view) == STEADY


def test_gobgp_neighbors_over_limit():
    seen = by_address(gobgp.parse_neighbors("sea-pr2",
                                            fixture("gobgp/over-limit/gobgp-neighbor.json")))
    assert seen["198.18.0.3"] == ("Idle", 8075, 0, 0, 500, ("ipv4",))
    assert seen["100.127.0.1"][2:4] == (15, 2)


def test_bird_peer_protocols_steady():
    view = bird.parse_protocols("sea-pr1", fixture("bird/steady/birdc-show-protocols-all.txt"))
    assert by_address(view) == STEADY


def test_bird_peer_protocols_over_limit():
    seen = by_address(bird.parse_protocols(
        "sea-pr2", fixture("bird/over-limit/birdc-show-protocols-all.txt")))
    # BIRD says "BGP state: Down" for a protocol its receive limit shut: Idle in RFC 4271 terms.
    assert seen["198.18.0.3"] == ("Idle", 8075, None, None, 500, ("ipv4",))
    assert seen["2001:db8:ffff::3"][0] == "Established"


@pytest.mark.parametrize("parse", [
    lambda text: openbgpd.parse_neighbors("n", text),
    lambda text: gobgp.parse_neighbors("n", text),
    lambda text: bird.parse_protocols("n", text),
])
def test_parsers_on_silence_and_garbage(parse):
    assert parse(None).answered is False
    for text in ("", "not json at all", "{}", "[]", '{"neighbors": [{}]}'):
        view = parse(text)
        assert view.answered and view.neighbors == ()


MICROSOFT = {p for p in BASE.microsoft_prefixes if ":" not in p}
EXPECTED_ROUTES = 22       # 12 + 4 Microsoft, our own 2, two members' 2 each


def test_routes_of_each_program():
    found = {
        "openbgpd": openbgpd.parse_routes(fixture("openbgpd/steady/bgpctl-show-rib.json")),
        "gobgp": gobgp.parse_routes(fixture("gobgp/steady/gobgp-global-rib-ipv4.json"))
        | gobgp.parse_routes(fixture("gobgp/steady/gobgp-global-rib-ipv6.json")),
        "bird": frozenset(bird._ROUTE.findall(fixture("bird/steady/birdc-show-route-master4.txt")
                                              + fixture("bird/steady/birdc-show-route-master6.txt"))),
    }
    for software, routes in found.items():
        assert len(routes) == EXPECTED_ROUTES, software
        assert {"192.0.2.0/24", "2001:db8:100::/48", "198.51.100.0/24", "2001:db8:300::/48",
                "4.144.0.0/12", "2603:1000::/47"} <= routes, software
    assert found["openbgpd"] == found["gobgp"] == found["bird"]


def kernel_bgp_routes(text: str) -> dict[str, str]:
    """`ip route show` lines that fib_sync installed (proto bgp): prefix -> gateway."""
    found = {}
    for line in text.splitlines():
        words = line.split()
        if "proto" in words and words[words.index("proto") + 1] == "bgp" and "via" in words:
            found[words[0]] = words[words.index("via") + 1]
    return found


@pytest.mark.parametrize("case", ["steady", "over-limit"])
def test_fib_sync_installed_exactly_openbgpds_selection(case):
    best = openbgpd.best_routes(fixture("openbgpd", case, "bgpctl-show-rib-selected.json"))
    assert best == kernel_bgp_routes(fixture("openbgpd", case, "kernel-routes.txt"))
    assert "192.0.2.0/24" not in best              # our own: no next hop, stays out of the kernel
    assert best["4.144.0.0/12"] == ("198.18.0.1" if case == "steady" else "100.127.0.2")


@pytest.mark.parametrize("case", ["steady", "over-limit"])
def test_fib_sync_installed_exactly_gobgps_selection(case):
    best = gobgp.best_routes(fixture("gobgp", case, "gobgp-global-rib-ipv4.json"))
    best |= gobgp.best_routes(fixture("gobgp", case, "gobgp-global-rib-ipv6.json"))
    assert best == kernel_bgp_routes(fixture("gobgp", case, "kernel-routes.txt"))
    assert "2001:db8:100::/48" not in best
    assert best["2603:1000::/47"] == ("2001:db8:ffff::1" if case == "steady" else "2001:db8:ffff::3")


def test_bird_programs_the_kernel_itself():
    kernel = fixture("bird", "steady", "kernel-routes.txt")
    assert "4.144.0.0/12 via 198.18.0.1 dev lag0 proto bird" in kernel
    assert "192.0.2.0/24" not in kernel.replace("192.0.2.1", "")   # no blackhole in the kernel


# --- start-up through a recording host ---------------------------------------------------------

class RecordingHost:
    """Runs nothing: remembers argv, answers from a table, and plays the daemon's start-up."""

    def __init__(self, answers: dict[str, str], on_spawn=lambda argv: None):
        self.calls: list[tuple[str, tuple[str, ...]]] = []
        self.answers = answers
        self.on_spawn = on_spawn

    def run(self, node, argv, check=True, timeout=30.0):
        self.calls.append(("run", tuple(argv)))
        out = next((text for key, text in self.answers.items() if key in " ".join(argv)), "")
        return subprocess.CompletedProcess(list(argv), 0, out, "")

    def spawn(self, node, argv, log, env=None):
        self.calls.append(("spawn", tuple(argv)))
        self.on_spawn(argv)
        return os.getpid()        # a live pid: start-up waits for a live daemon

    def spawned(self) -> list[tuple[str, ...]]:
        return [argv for verb, argv in self.calls if verb == "spawn"]


def test_openbgpd_start_gives_each_instance_its_own_run_directory(tmp_path):
    user_file = "AS 64500\nneighbor 198.18.0.1 {\n remote-as 8075\n}\n"
    (tmp_path / "bgpd.conf").write_text(user_file)     # the user's own, as the lab copied it
    sock = tmp_path / "openbgpd" / "bgpd.sock.0"
    host = RecordingHost({"show": '{"neighbors": []}'},
                         lambda argv: "bgpd" in argv and sock.touch())
    plan = plan_with("openbgpd")
    openbgpd.start(host, plan, plan.node("sea-pr1"), tmp_path)
    bgpd, loop = host.spawned()
    script, run_dir = bgpd[2], bgpd[3]
    assert bgpd[:2] == ("sh", "-c") and "mount --bind" in script and "/run/openbgpd" in script
    assert run_dir == str(tmp_path / "openbgpd")
    assert bgpd[4:] == ("bgpd", "-d", "-v", "-f", str(tmp_path / "bgpd.conf"))
    assert (tmp_path / "bgpd.conf").read_text() == user_file     # never rewritten
    assert (tmp_path / "bgpd.pid").read_text().strip() == str(os.getpid())
    assert loop[1:4] == ("-m", "emulator.nodes.fib_sync", "openbgpd")
    assert loop[loop.index("--socket") + 1] == str(sock)


def test_openbgpd_honours_a_users_socket_line(tmp_path):
    (tmp_path / "bgpd.conf").write_text('AS 1\nsocket "/run/openbgpd/mine.sock"\n')
    assert openbgpd.control_socket(tmp_path) == tmp_path / "openbgpd" / "mine.sock"
    (tmp_path / "bgpd.conf").write_text('AS 1\nsocket "/var/tmp/elsewhere.sock" restricted\n')
    assert openbgpd.control_socket(tmp_path) == tmp_path / "openbgpd" / "bgpd.sock.0"


def test_gobgp_start_originates_the_contracts_prefixes_after_the_file_is_read(tmp_path):
    (tmp_path / "gobgpd.toml").write_text('[global.config]\n  as = 64500\n')
    host = RecordingHost({"-j global": '{"asn": 64500}'},
                         lambda argv: argv[0] == "gobgpd" and (tmp_path / "api.sock").touch())
    plan = plan_with("gobgp")
    gobgp.start(host, plan, plan.node("sea-pr1"), tmp_path)
    gobgpd, loop = host.spawned()
    assert gobgpd == ("gobgpd", "-f", str(tmp_path / "gobgpd.toml"), "-p", "-l", "info",
                      "--pprof-disable", "--api-hosts", f"unix://{tmp_path}/api.sock")
    runs = [argv for verb, argv in host.calls if verb == "run"]
    adds = [argv[argv.index("add") + 1:] for argv in runs if "add" in argv]
    assert adds == [("-a", "ipv4", "192.0.2.0/24", "origin", "igp"),
                    ("-a", "ipv6", "2001:db8:100::/48", "origin", "igp")]
    first_add = next(i for i, argv in enumerate(runs) if "add" in argv)
    assert any("global" in argv and "-j" in argv for argv in runs[:first_add])
    assert loop[3:5] == ("gobgp", "--dir")


def test_start_reports_a_daemon_that_dies(tmp_path, monkeypatch):
    from emulator.core.errors import CommandFailed
    (tmp_path / "gobgpd.toml").write_text("")
    (tmp_path / "gobgpd.log").write_text('level=fatal msg="policy nosuch not found"\n')
    host = RecordingHost({})
    host.spawn = lambda node, argv, log, env=None: 2 ** 22 + 7     # no such process
    plan = plan_with("gobgp")
    with pytest.raises(CommandFailed, match="policy nosuch not found"):
        gobgp.start(host, plan, plan.node("sea-pr1"), tmp_path)


# --- fib_sync's bookkeeping -------------------------------------------------------------------

def test_fib_sync_changes():
    installed = {"4.144.0.0/12": "198.18.0.1", "4.160.0.0/11": "198.18.0.1"}
    wanted = {"4.144.0.0/12": "100.127.0.3", "2603:1000::/47": "2001:db8:ffff::1"}
    assert fib_sync.changes(installed, wanted) == [
        "route replace 2603:1000::/47 via 2001:db8:ffff::1 proto 186",
        "route replace 4.144.0.0/12 via 100.127.0.3 proto 186",
        "route del 4.160.0.0/11 proto 186",
    ]
    assert fib_sync.changes(wanted, wanted) == []


def test_fib_sync_keeps_track_of_what_the_kernel_refused():
    installed = {"4.160.0.0/11": "198.18.0.1", "4.192.0.0/16": "198.18.0.1"}
    wanted = {"4.144.0.0/12": "10.9.9.9", "4.192.0.0/16": "198.18.0.3", "13.0.0.0/8": "198.18.0.1"}
    lines = fib_sync.changes(installed, wanted)
    refused_at = lines.index("route replace 4.144.0.0/12 via 10.9.9.9 proto 186") + 1
    gone_at = lines.index("route del 4.160.0.0/11 proto 186") + 1

    def ip(text: str) -> str:
        assert text.splitlines() == lines
        return (f"Error: Nexthop has invalid gateway.\nCommand failed -:{refused_at}\n"
                f"RTNETLINK answers: No such process\nCommand failed -:{gone_at}\n")

    refused = fib_sync.apply(installed, wanted, lines, ip)
    assert refused == ["route replace 4.144.0.0/12 via 10.9.9.9 proto 186"]
    # The refused route is retried next round; the one whose link took it away is forgotten.
    assert installed == {"4.192.0.0/16": "198.18.0.3", "13.0.0.0/8": "198.18.0.1"}
    assert fib_sync.changes(installed, wanted) == [lines[refused_at - 1]]


def test_fib_sync_withdraws_everything_when_the_program_is_gone(tmp_path, monkeypatch):
    (tmp_path / "bgpd.pid").write_text(f"{2 ** 22 + 7}\n")        # no such process
    batches: list[str] = []
    monkeypatch.setattr(fib_sync, "adopt", lambda: {"4.144.0.0/12": "198.18.0.1"})
    monkeypatch.setattr(fib_sync, "ip_batch", lambda text: batches.append(text) or "")
    monkeypatch.setattr(fib_sync, "read_best", lambda *a: pytest.fail("read a dead program"))
    fib_sync.run("openbgpd", tmp_path, "unused", interval=0.05, lifetime=0.12, log=lambda _: None)
    assert batches == ["route del 4.144.0.0/12 proto 186\n"]


def test_fib_sync_ends_when_the_node_directory_is_gone(tmp_path, monkeypatch):
    monkeypatch.setattr(fib_sync, "adopt", dict)
    monkeypatch.setattr(fib_sync, "read_best", lambda *a: pytest.fail("ran without its node"))
    fib_sync.run("gobgp", tmp_path / "removed", "unused", interval=0.05, log=lambda _: None)


def test_fib_sync_polls_at_most_every_half_second():
    assert fib_sync.POLL <= 0.5
    assert fib_sync.failed_lines("Command failed -:3\nCommand failed -:12\n") == {3, 12}


def test_gobgp_start_refuses_a_config_whose_policies_were_dropped(tmp_path):
    """gobgpd goes on without any policy when it cannot create one; the lab says so."""
    from emulator.core.errors import TopologyError
    from emulator.nodes.gobgp import _refuse_dropped_policy
    log = tmp_path / "gobgpd.log"
    log.write_text('{"level":"info","msg":"gobgpd started"}\n')
    _refuse_dropped_policy(tmp_path / "gobgpd.toml", log)
    log.write_text(log.read_text() + '{"level":"error","msg":"failed to create routing policy",'
                   '"Error":"duplicate statement name"}\n')
    with pytest.raises(TopologyError, match="without any routing policy"):
        _refuse_dropped_policy(tmp_path / "gobgpd.toml", log)


@pytest.mark.parametrize("suffix", ["yaml", "yml", "json"])
def test_gobgp_takes_a_configuration_in_yaml_or_json_by_its_extension(suffix, tmp_path):
    """gobgpd reads TOML, YAML and JSON; the lab copies a user's file to gobgpd.toml, so it
    starts gobgpd with the type the user's own file name says."""
    import json
    import tomllib
    import yaml
    needs("gobgpd")
    data = tomllib.loads(rendering("gobgp", "sea-pr2"))
    path = tmp_path / f"pr2.{suffix}"
    path.write_text(json.dumps(data) if suffix == "json" else yaml.safe_dump(data))
    assert gobgp.check_config(path) == []
    node = replace(plan_with("gobgp").node("sea-pr2"), config=str(path))
    assert gobgp.config_type(node) == ("json" if suffix == "json" else "yaml")
    assert gobgp.config_type(replace(node, config=None)) == "toml"
    # gobgpd 3.10 reads a file by its extension, whatever `-t` says: the copy is named for it.
    d = tmp_path / "node"
    d.mkdir()
    shutil.copyfile(path, d / "gobgpd.toml")
    started = gobgp.config_file(node, d)
    assert started.name == f"gobgpd.{gobgp.config_type(node)}"
    assert started.read_bytes() == path.read_bytes() and gobgp.check_config(started) == []


def test_frr_runs_staticd_only_for_a_file_with_static_routes():
    from emulator.nodes import frr
    operator = (ROOT / "tests" / "fixtures" / "own-config" / "frr-operator-sea-pr1.conf")
    assert frr.static_routes(operator.read_text()) == ("ip route 192.0.2.0/24 Null0\n"
                                                       "ipv6 route 2001:db8:100::/48 Null0\n")
    in_vrf = ("vrf blue\n description lab\n ipv6 route 2001:db8::/32 blackhole\nexit-vrf\n"
              "ip route 0.0.0.0/0 100.127.0.1\n")
    assert frr.static_routes(in_vrf) == ("vrf blue\n ipv6 route 2001:db8::/32 blackhole\n"
                                         "exit-vrf\nip route 0.0.0.0/0 100.127.0.1\n")
    lab_made = frr.render_bgpd(plan_with("frr"), plan_with("frr").node("sea-pr1"), "/tmp/x")
    assert not frr.needs_staticd(lab_made)
    # A route-map or prefix-list line that merely mentions routes is not a static route.
    assert not frr.needs_staticd("ip prefix-list X seq 5 permit 192.0.2.0/24\n"
                                 "route-map ip-route permit 10\n")
    assert "staticd" in frr.Frr.daemons
