"""The containerlab rendering: it holds the plan, its scripts gate BGP on LACP, overrides work."""
from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from emulator.edge.agent import AgentConfig
from emulator.core.errors import PlanError, RuntimeUnavailable, WaitTimeout
from emulator.runtime.lag.bond import bond_request
from emulator.runtime import containerlab
from emulator.runtime.containerlab import Address, Link, NodeOverride, SessionEnd
from tests.containerlab.conftest import HERE

FIXTURES = HERE / "fixtures"


def topology(rendered) -> dict:
    return yaml.safe_load(rendered.topology_file.read_text())


def test_summary_read_back_from_the_files_equals_the_plan(seattle, rendered):
    assert rendered.summary == containerlab.plan_summary(seattle)
    assert rendered.topology_file == rendered.out_dir / "seattle.clab.yml"
    assert all((rendered.out_dir / f).is_file() for f in rendered.files)


def test_summary_holds_the_interconnect(rendered):
    summary = rendered.summary
    assert Link.of("sea-pr1:lag0m1", "sea-ms1:lag0m1") in summary.links
    assert Link.of("rs:ix0", "ixlan:port0") in summary.links
    assert Address("sea-pr1", "lag0", "198.18.0.0/31") in summary.addresses
    assert Address("sea-ms2", "lag1", "2001:db8:ffff::3/127") in summary.addresses
    assert SessionEnd("sea-ms1", 8075, "198.18.0.1", 64500, "198.18.0.0") in summary.sessions
    assert SessionEnd("sea-pr1", 64500, "198.18.0.0", 8075, "198.18.0.1") in summary.sessions


def test_topology_names_the_lab_and_its_nodes(seattle, rendered):
    document = topology(rendered)
    assert document["name"] == "seattle"
    nodes = document["topology"]["nodes"]
    assert [n.name for n in seattle.nodes] == list(nodes)
    assert {n["kind"] for n in nodes.values()} == {"linux"}
    assert nodes["sea-pr1"]["image"] == "maps-lab/frr:latest"
    assert nodes["sea-ms1"]["image"] == "maps-lab/edge:latest"
    assert nodes["rs"]["image"] == "maps-lab/bird:latest"
    assert nodes["sea-pr1"]["binds"] == ["nodes/sea-pr1:/maps-lab:ro", "nodes/sea-pr1/frr:/etc/frr"]
    assert nodes["sea-pr1"]["exec"] == ["sh /maps-lab/start.sh"]


def test_every_bind_source_is_rendered(rendered):
    for name, node in topology(rendered)["topology"]["nodes"].items():
        for bind in node.get("binds", []):
            assert (rendered.out_dir / bind.split(":")[0]).is_dir(), (name, bind)


def test_edges_configure_after_their_peer_routers(rendered):
    nodes = topology(rendered)["topology"]["nodes"]
    assert nodes["sea-ms1"]["stages"] == {
        "configure": {"wait-for": [{"node": "sea-pr1", "stage": "configure"}]}}
    assert "stages" not in nodes["sea-pr1"]


@pytest.mark.skipif(shutil.which("sh") is None, reason="no sh to check the scripts' syntax")
def test_scripts_are_valid_shell(rendered):
    for name in rendered.files:
        if name.endswith(".sh"):
            result = subprocess.run(["sh", "-n", str(rendered.out_dir / name)],
                                    capture_output=True, text=True)
            assert result.returncode == 0, f"{name}: {result.stderr}"


def test_bonds_are_built_as_the_plan_says(seattle, rendered):
    script = (rendered.out_dir / "nodes/sea-pr1/start.sh").read_text().splitlines()
    add = script.index("ip link add lag0 type bond mode 802.3ad miimon 100 lacp_rate fast "
                       "xmit_hash_policy layer3+4 min_links 1 || no_bonding lag0")
    # IEEE 802.1AX members: down, enslaved, up; then the addresses go on the bond.
    assert script[add + 1:add + 4] == ["ip link set lag0m1 down", "ip link set lag0m1 master lag0",
                                       "ip link set lag0m1 up"]
    assert script.index("ip address add 198.18.0.0/31 dev lag0") > script.index(
        "ip link set lag0m2 up")


def test_passive_lacp_is_written_and_active_left_to_the_kernel(seattle):
    lag = seattle.lags[0]
    assert "lacp_active" not in containerlab.bond_options(bond_request(lag, "active"))
    assert containerlab.bond_options(bond_request(lag, "passive"))[-4:] == [
        "xmit_hash_policy", "layer3+4", "min_links", "1"]
    assert "lacp_active off" in " ".join(containerlab.bond_options(bond_request(lag, "passive")))
    with pytest.raises(PlanError, match="bond_new_thing"):
        containerlab.bond_options({**bond_request(lag, "active"), "bond_new_thing": 1})


def test_edge_starts_exabgp_only_through_its_lacp_waiter(seattle, rendered):
    start = (rendered.out_dir / "nodes/sea-ms1/start.sh").read_text()
    assert "exabgp" not in start.replace("configure-bgp.sh", "")
    assert "setsid sh /maps-lab/lag0/configure-bgp.sh" in start
    waiter = (rendered.out_dir / "nodes/sea-ms1/lag0/configure-bgp.sh").read_text()
    assert "/proc/net/bonding/lag0" in waiter
    loop, after = waiter.split("done\n", 1)
    assert "exabgp server" not in loop
    assert after.index("event lag-up") < after.index("event bgp-configured") < after.index(
        "exec /opt/maps-lab/venv/bin/exabgp server /maps-lab/lag0/exabgp.conf")
    assert 'exabgp_tcp_bind="198.18.0.1 2001:db8:ffff::1"' in after


def test_edge_configs_use_container_paths(seattle, rendered):
    conf = (rendered.out_dir / "nodes/sea-ms1/lag0/exabgp.conf").read_text()
    assert "run /opt/maps-lab/venv/bin/python -m emulator.edge.agent /maps-lab/lag0/agent.json;" \
        in conf
    config = AgentConfig.read(str(rendered.out_dir / "nodes/sea-ms1/lag0/agent.json"))
    assert config.routes_file == "/var/lib/maps-lab/lag0/routes.json"
    assert config.events_file == "/var/lib/maps-lab/events.jsonl"
    assert (config.lag, config.max_prefix) == ("sea-1-a", seattle.edge_max_prefix)
    bgpd = (rendered.out_dir / "nodes/sea-pr1/frr/bgpd.conf").read_text()
    assert "log file /var/log/frr/bgpd.log" in bgpd


@pytest.mark.skipif(shutil.which("awk") is None, reason="no awk")
@pytest.mark.parametrize("fixture, expected", [
    ("proc-net-bonding-lag0-up.txt", "1 lag0m1=up/63 lag0m2=down/71"),
    # Collecting/distributing counts only from the actor's own state, on a member whose link is up.
    ("proc-net-bonding-lag0-waiting.txt", "0 lag0m1=down/15 lag0m2=down/63"),
])
def test_lacp_state_from_proc_net_bonding(fixture, expected):
    result = subprocess.run(["awk", containerlab.LACP_AWK, str(FIXTURES / fixture)],
                            capture_output=True, text=True)
    assert result.stdout.strip() == expected


def test_the_waiter_embeds_the_tested_awk(rendered):
    waiter = (rendered.out_dir / "nodes/sea-ms2/lag1/configure-bgp.sh").read_text()
    assert containerlab.LACP_AWK in waiter


# --- overrides ---------------------------------------------------------------------------------

def test_nos_override_renames_interfaces_and_mounts_nothing_of_ours(seattle, tmp_path):
    config = tmp_path / "ceos.cfg"
    config.write_text("hostname sea-pr1\n")
    names = {"lag0m1": "eth1", "lag0m2": "eth2", "ix0": "eth3"}
    overrides = {"sea-pr1": NodeOverride("arista_ceos", "ceos:4.32.0F", config, names)}
    rendered = containerlab.render(seattle, tmp_path / "out", overrides)
    node = topology(rendered)["topology"]["nodes"]["sea-pr1"]
    assert (node["kind"], node["image"]) == ("arista_ceos", "ceos:4.32.0F")
    assert node["startup-config"] == "nodes/sea-pr1/startup/ceos.cfg"
    assert (rendered.out_dir / node["startup-config"]).read_text() == "hostname sea-pr1\n"
    assert not {"binds", "exec", "sysctls"} & set(node)
    assert Link.of("sea-pr1:eth1", "sea-ms1:lag0m1") in rendered.summary.links
    assert Link.of("sea-pr1:eth3", "ixlan:port1") in rendered.summary.links
    # The reference a replacement's configuration must match is still rendered.
    assert (rendered.out_dir / "nodes/sea-pr1/frr/bgpd.conf").exists()
    assert rendered.summary == containerlab.plan_summary(seattle, overrides)


def test_linux_image_override_keeps_our_files(seattle, tmp_path):
    overrides = {"sea-pr2": NodeOverride(image="quay.io/frrouting/frr:8.4.4")}
    rendered = containerlab.render(seattle, tmp_path, overrides)
    node = topology(rendered)["topology"]["nodes"]["sea-pr2"]
    assert (node["kind"], node["image"]) == ("linux", "quay.io/frrouting/frr:8.4.4")
    assert node["exec"] == ["sh /maps-lab/start.sh"]
    assert "nodes/sea-pr2/frr:/etc/frr" in node["binds"]


@pytest.mark.parametrize("name, override, message", [
    ("sea-ms1", NodeOverride(image="x"), "not a peer router"),
    ("nowhere", NodeOverride(image="x"), "not a peer router"),
    ("sea-pr1", NodeOverride(kind="arista_ceos"), "needs an image"),
    ("sea-pr1", NodeOverride(startup_config=Path(__file__)), "NOS kinds only"),
    ("sea-pr1", NodeOverride("arista_ceos", "c", Path("/no/such.cfg")), "is not a file"),
    ("sea-pr1", NodeOverride("arista_ceos", "c", interfaces={"lag1m1": "eth1"}), "lag1m1"),
])
def test_bad_overrides_are_refused(seattle, tmp_path, name, override, message):
    with pytest.raises(PlanError, match=message):
        containerlab.render(seattle, tmp_path, {name: override})
    assert not (tmp_path / "nodes").exists()


def test_parse_overrides(tmp_path):
    parsed = containerlab.parse_overrides(
        {"sea-pr1": {"kind": "nokia_srlinux", "image": "ghcr.io/nokia/srlinux:24.10",
                     "startup-config": "srl.cli", "interfaces": {"lag0m1": "e1-1"}}}, tmp_path)
    assert parsed == {"sea-pr1": NodeOverride("nokia_srlinux", "ghcr.io/nokia/srlinux:24.10",
                                              tmp_path / "srl.cli", {"lag0m1": "e1-1"})}
    with pytest.raises(PlanError, match="unknown field"):
        containerlab.parse_overrides({"sea-pr1": {"kind": "linux", "colour": "red"}}, tmp_path)


def test_registry_prefixes_our_images(seattle, tmp_path):
    rendered = containerlab.render(seattle, tmp_path, registry="registry.example:5000/")
    images = {n["image"] for n in topology(rendered)["topology"]["nodes"].values()}
    assert images == {"registry.example:5000/maps-lab/" + i for i in
                      ("frr:latest", "bird:latest", "edge:latest", "ixlan:latest")}


def test_refuses_to_clear_a_directory_it_did_not_render(seattle, tmp_path):
    (tmp_path / "nodes").mkdir()
    (tmp_path / "nodes" / "precious").write_text("keep\n")
    with pytest.raises(PlanError, match="did not render"):
        containerlab.render(seattle, tmp_path)
    assert (tmp_path / "nodes" / "precious").exists()


# --- up, with a recorded Docker ------------------------------------------------------------------

class FakeDocker:
    """Answers docker and containerlab commands from a script, records what was asked."""

    def __init__(self, seattle, images_present: bool = True):
        self.plan = seattle
        self.images_present = images_present
        self.asked: list[list[str]] = []

    def __call__(self, argv, timeout: float = 60.0):
        argv = list(argv)
        self.asked.append(argv)
        out, code = "", 0
        if argv[:3] == ["docker", "image", "inspect"]:
            code = 0 if self.images_present else 1
        elif argv[:2] == ["docker", "exec"]:
            node = argv[2].removeprefix(f"clab-{self.plan.lab}-")
            events = []
            for lag in self.plan.lags_of(node):
                events.append({"kind": "lag-up", "node": node, "lag": lag.name})
                events += [{"kind": "bgp-state", "node": node, "peer": s.a_address, "state": "up"}
                           for s in self.plan.sessions if s.lag == lag.name]
            out = "\n".join(json.dumps(e) for e in events) + "\n"
        return subprocess.CompletedProcess(argv, code, out, "")


@pytest.fixture
def tools_present(monkeypatch):
    monkeypatch.setattr(containerlab.shutil, "which", lambda tool: f"/usr/bin/{tool}")


def test_up_deploys_and_waits_for_lags_and_sessions(seattle, tmp_path, tools_present):
    docker = FakeDocker(seattle)
    lines: list[str] = []
    rendered = containerlab.up(seattle, tmp_path / "lab", progress=lines.append, run=docker)
    assert containerlab.deploy_argv(rendered.topology_file) in docker.asked
    assert ["docker", "exec", "clab-seattle-sea-ms1", "cat", "/var/lib/maps-lab/events.jsonl"] \
        in docker.asked
    assert lines[-1] == "every interconnect session Established"


def test_up_names_the_images_to_build(seattle, tmp_path, tools_present):
    with pytest.raises(RuntimeUnavailable, match="docker build -t maps-lab/edge:latest"):
        containerlab.up(seattle, tmp_path, run=FakeDocker(seattle, images_present=False))


def test_up_says_why_it_cannot_run(seattle, tmp_path, monkeypatch):
    monkeypatch.setattr(containerlab.shutil, "which", lambda tool: None)
    with pytest.raises(RuntimeUnavailable, match="docker is not installed"):
        containerlab.up(seattle, tmp_path, run=FakeDocker(seattle))


def test_sessions_not_up_are_named(seattle):
    views = [containerlab.EdgeView("sea-ms1", frozenset({"sea-1-a"}), frozenset({"198.18.0.0"}), 0),
             containerlab.EdgeView("sea-ms2", frozenset(), frozenset(), 0)]
    assert containerlab.missing_lags(seattle, views) == \
        "sea-ms2 lag1 (sea-1-b): LACP not collecting/distributing"
    missing = containerlab.missing_sessions(seattle, views).splitlines()
    assert missing[0] == "sea-ms1 sea-1-a-v6 (2001:db8:ffff::): not Established"
    assert len(missing) == 3


def test_rendered_lab_is_frozen(rendered):
    with pytest.raises(dataclasses.FrozenInstanceError):
        rendered.lab = "other"  # type: ignore[misc]


def test_up_destroys_the_lab_when_it_fails(seattle, tmp_path, tools_present, monkeypatch):
    docker = FakeDocker(seattle)
    monkeypatch.setitem(containerlab.wait.BUDGETS, "lacp_setup", 0.01)
    failing = lambda argv, timeout=60.0: (subprocess.CompletedProcess(list(argv), 1, "", "")
                                          if argv[:2] == ["docker", "exec"]
                                          else docker(argv, timeout))
    with pytest.raises(WaitTimeout, match="lacp_setup"):
        containerlab.up(seattle, tmp_path, run=failing)
    assert docker.asked[-1][:2] == ["containerlab", "destroy"]


def _waiter_against(rendered, tmp_path: Path, fixture: str) -> Path:
    """The rendered waiter of sea-ms1 lag0, reading a fixture for /proc and running nothing."""
    text = (rendered.out_dir / "nodes/sea-ms1/lag0/configure-bgp.sh").read_text()
    text = text.replace("/proc/net/bonding/lag0", str(tmp_path / "bond"))
    text = text.replace("/var/lib/maps-lab", str(tmp_path / "state"))
    text = text.replace("exec /opt/maps-lab/venv/bin/exabgp server", "echo EXABGP")
    (tmp_path / "state").mkdir()
    shutil.copyfile(FIXTURES / fixture, tmp_path / "bond")
    script = tmp_path / "waiter.sh"
    script.write_text(text)
    return script


@pytest.mark.skipif(shutil.which("sh") is None or shutil.which("awk") is None,
                    reason="needs sh and awk")
def test_waiter_starts_exabgp_once_lacp_is_up(rendered, tmp_path):
    script = _waiter_against(rendered, tmp_path, "proc-net-bonding-lag0-up.txt")
    result = subprocess.run(["sh", str(script)], capture_output=True, text=True, timeout=30)
    assert result.stdout.splitlines()[-1] == "EXABGP /maps-lab/lag0/exabgp.conf"
    events = [json.loads(l) for l in (tmp_path / "state/events.jsonl").read_text().splitlines()]
    assert [(e["kind"], e["node"], e["lag"]) for e in events] == [
        ("lag-up", "sea-ms1", "sea-1-a"), ("bgp-configured", "sea-ms1", "sea-1-a")]
    assert events[0]["members_up"] == 1


@pytest.mark.skipif(shutil.which("sh") is None or shutil.which("awk") is None,
                    reason="needs sh and awk")
def test_waiter_keeps_waiting_while_lacp_is_down(rendered, tmp_path):
    script = _waiter_against(rendered, tmp_path, "proc-net-bonding-lag0-waiting.txt")
    process = subprocess.Popen(["sh", str(script)], stdout=subprocess.PIPE, text=True)
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            process.wait(timeout=0.5)
    finally:
        process.kill()
        output = process.communicate()[0]
    assert "EXABGP" not in output
    assert output.startswith("waiting for LACP on lag0: 0 lag0m1=down/15")
    assert not (tmp_path / "state/events.jsonl").exists()
