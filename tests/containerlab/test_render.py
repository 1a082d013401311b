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
from emulator.runtime.containerlab import deploy
from emulator.runtime.containerlab.node_agent import EdgeSpeaker
from emulator.runtime.containerlab.overrides import NodeOverride
from tests.containerlab.conftest import HERE
from tests.containerlab.readback import Address, Link, SessionEnd, plan_summary, summarize

FIXTURES = HERE / "fixtures"


def topology(rendered) -> dict:
    return yaml.safe_load(rendered.topology_file.read_text())


def test_summary_read_back_from_the_files_equals_the_plan(seattle, rendered):
    assert summarize(rendered.topology_file) == plan_summary(seattle)
    assert rendered.topology_file == rendered.out_dir / "seattle.clab.yml"
    assert all((rendered.out_dir / f).is_file() for f in rendered.files)


def test_summary_holds_the_interconnect(rendered):
    summary = summarize(rendered.topology_file)
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


def test_edge_starts_exabgp_only_through_the_node_agent(seattle, rendered):
    start = (rendered.out_dir / "nodes/sea-ms1/start.sh").read_text()
    assert "exabgp" not in start.replace("configure-bgp.sh", "")
    assert "setsid sh /maps-lab/lag0/configure-bgp.sh" in start
    waiter = (rendered.out_dir / "nodes/sea-ms1/lag0/configure-bgp.sh").read_text()
    # No shell or awk copy of the LACP reader or the timeline writer: the package's Python.
    assert "awk" not in waiter and "printf" not in waiter and "while" not in waiter
    assert waiter.splitlines()[-1] == ("exec /opt/maps-lab/venv/bin/python -m "
                                       "emulator.runtime.containerlab.node_agent edge "
                                       "/maps-lab/lag0/speaker.json")
    speaker = EdgeSpeaker.read(rendered.out_dir / "nodes/sea-ms1/lag0/speaker.json")
    assert speaker == EdgeSpeaker(
        "sea-ms1", "/maps-lab/lag0/exabgp.conf", ("198.18.0.1", "2001:db8:ffff::1"),
        "/var/lib/maps-lab/lag0/exabgp.log", "/opt/maps-lab/venv/bin/exabgp",
        "/var/lib/maps-lab/events.jsonl", "sea-1-a", "lag0", "/proc/net/bonding/lag0")
    internet = EdgeSpeaker.read(rendered.out_dir / "nodes/sea-ms1/internet/speaker.json")
    assert (internet.lag, internet.conf) == (None, "/maps-lab/internet/exabgp.conf")


def test_edge_configs_use_container_paths(seattle, rendered):
    conf = (rendered.out_dir / "nodes/sea-ms1/lag0/exabgp.conf").read_text()
    assert "run /opt/maps-lab/venv/bin/python -m emulator.edge.agent /maps-lab/lag0/agent.json;" \
        in conf
    config = AgentConfig.read(str(rendered.out_dir / "nodes/sea-ms1/lag0/agent.json"))
    assert config.routes_file == "/var/lib/maps-lab/lag0/routes.json"
    assert config.events_file == "/var/lib/maps-lab/events.jsonl"
    assert (config.lag, config.max_prefix) == ("sea-1-a", seattle.edge_max_prefix)
    bgpd = (rendered.out_dir / "nodes/sea-pr1/frr/bgpd.conf").read_text()
    # FRR's directory in the container (sockets, pid files, logs) is the one its node kind
    # rendered the configuration for and observes through.
    assert "log file /var/run/frr/bgpd.log" in bgpd


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
    links = summarize(rendered.topology_file).links
    assert Link.of("sea-pr1:eth1", "sea-ms1:lag0m1") in links
    assert Link.of("sea-pr1:eth3", "ixlan:port1") in links
    # The reference a replacement's configuration must match is still rendered.
    assert (rendered.out_dir / "nodes/sea-pr1/frr/bgpd.conf").exists()
    assert summarize(rendered.topology_file) == plan_summary(seattle, overrides)


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
    """Answers docker and containerlab commands from a script, records what was asked: every
    bond reports the fixture's LACP state, every edge's timeline its sessions up."""

    def __init__(self, seattle, images_present: bool = True,
                 bonding: str = "proc-net-bonding-lag0-up.txt"):
        self.plan = seattle
        self.images_present = images_present
        self.bonding = (FIXTURES / bonding).read_text()
        self.asked: list[list[str]] = []

    def __call__(self, argv, timeout: float = 60.0):
        argv = list(argv)
        self.asked.append(argv)
        out, code = "", 0
        if argv[:3] == ["docker", "image", "inspect"]:
            code = 0 if self.images_present else 1
        elif argv[:2] == ["docker", "exec"] and argv[-1].startswith("/proc/net/bonding/"):
            out = self.bonding
        elif argv[:2] == ["docker", "exec"]:
            node = argv[2].removeprefix(f"clab-{self.plan.lab}-")
            events = []
            for lag in self.plan.lags_of(node):
                events.append({"time": 1.0, "kind": "lag-up", "node": node, "lag": lag.name})
                events += [{"time": 2.0, "kind": "bgp-state", "node": node, "lag": lag.name,
                            "peer": s.a_address, "state": "up"}
                           for s in self.plan.sessions if s.lag == lag.name]
            out = "\n".join(json.dumps(e) for e in events) + "\n"
        return subprocess.CompletedProcess(argv, code, out, "")


@pytest.fixture
def tools_present(monkeypatch):
    monkeypatch.setattr(deploy.shutil, "which", lambda tool: f"/usr/bin/{tool}")


def test_up_deploys_and_waits_for_lags_and_sessions(seattle, tmp_path, tools_present):
    docker = FakeDocker(seattle)
    lines: list[str] = []
    rendered = containerlab.up(seattle, tmp_path / "lab", progress=lines.append, run=docker)
    assert containerlab.deploy_argv(rendered.topology_file) in docker.asked
    assert ["docker", "exec", "clab-seattle-sea-ms1", "cat", "/proc/net/bonding/lag0"] \
        in docker.asked
    assert ["docker", "exec", "clab-seattle-sea-ms1", "cat", "/var/lib/maps-lab/events.jsonl"] \
        in docker.asked
    assert lines[-1] == "every interconnect session Established"


def test_up_names_the_images_to_build(seattle, tmp_path, tools_present):
    with pytest.raises(RuntimeUnavailable, match="docker build -t maps-lab/edge:latest"):
        containerlab.up(seattle, tmp_path, run=FakeDocker(seattle, images_present=False))


def test_up_says_why_it_cannot_run(seattle, tmp_path, monkeypatch):
    monkeypatch.setattr(deploy.shutil, "which", lambda tool: None)
    with pytest.raises(RuntimeUnavailable, match="docker is not installed"):
        containerlab.up(seattle, tmp_path, run=FakeDocker(seattle))


def test_lags_and_sessions_not_up_are_named(seattle):
    host = containerlab.DockerHost(seattle.lab, FakeDocker(seattle, bonding=
                                                           "proc-net-bonding-lag0-waiting.txt"))
    states = deploy.edge_lags(seattle, host)
    assert deploy.missing_lags(states).splitlines()[0] == (
        "sea-ms1 lag0: LACP not collecting/distributing (actor 0x0f partner 0x3f, "
        "actor 0x3f partner 0x01)")
    events = deploy.edge_events(seattle, containerlab.DockerHost(seattle.lab, FakeDocker(seattle)))
    assert deploy.missing_sessions(seattle, events) == ""
    down = [e for e in events if e.get("peer") != "2001:db8:ffff::"]
    missing = deploy.missing_sessions(seattle, down).splitlines()
    assert missing == ["sea-ms1 sea-1-a-v6 (2001:db8:ffff::): not Established"]


def test_rendered_lab_is_frozen(rendered):
    with pytest.raises(dataclasses.FrozenInstanceError):
        rendered.lab = "other"  # type: ignore[misc]


def test_up_destroys_the_lab_when_it_fails(seattle, tmp_path, tools_present, monkeypatch):
    docker = FakeDocker(seattle, bonding="proc-net-bonding-lag0-waiting.txt")
    monkeypatch.setitem(deploy.wait.BUDGETS, "lacp_setup", 0.01)
    with pytest.raises(WaitTimeout, match="lacp_setup"):
        containerlab.up(seattle, tmp_path, run=docker)
    assert docker.asked[-1][:2] == ["containerlab", "destroy"]


def test_a_connections_md5_key_reaches_both_ends_in_the_containers(tmp_path):
    """The same plan, the same key: the edge's per-link ExaBGP and the peer's FRR sign."""
    from emulator.plan.resolve import resolve
    from emulator.topology.loader import parse
    from tests.conftest import ROOT
    text = (ROOT / "topologies" / "seattle.yaml").read_text().replace(
        "    use-for-peering-service: true\n",
        "    use-for-peering-service: true\n    md5-key: contoso-ix-sea-1\n")
    plan = resolve(parse(text, str(ROOT / "topologies" / "seattle.yaml")))
    out = containerlab.render(plan, tmp_path / "md5").out_dir
    edge = (out / "nodes/sea-ms1/lag0/exabgp.conf").read_text()
    assert edge.count('md5-password "contoso-ix-sea-1";') == 2
    assert "md5" not in (out / "nodes/sea-ms1/internet/exabgp.conf").read_text()
    bgpd = (out / "nodes/sea-pr1/frr/bgpd.conf").read_text()
    assert " neighbor 198.18.0.1 password contoso-ix-sea-1" in bgpd
