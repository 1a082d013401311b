"""A deployed lab driven through `docker exec`: the argv DockerHost builds, and the node kinds'
observation working through it on recorded outputs (FRR 8.4.4's vtysh JSON, recorded from two
bgpd on loopback addresses, one Established session with two prefixes received)."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from emulator.core.errors import CommandFailed, LabStateError
from emulator.nodes import registry
from emulator.runtime.containerlab import deploy, host as host_module
from emulator.runtime.containerlab.host import ContainerlabRuntime, DockerHost
from tests.containerlab.conftest import FIXTURES_DIR

NEIGHBORS = (FIXTURES_DIR / "frr-show-bgp-neighbors.json").read_text()
SUMMARY = (FIXTURES_DIR / "frr-show-bgp-summary.json").read_text()
IPV4 = (FIXTURES_DIR / "frr-show-bgp-ipv4-unicast.json").read_text()


class RecordedDocker:
    """subprocess.run for `docker ...`: answers vtysh commands from recorded output."""

    answers = {"show bgp neighbors json": NEIGHBORS, "show bgp summary json": SUMMARY,
               "show bgp ipv4 unicast json": IPV4, "show bgp ipv6 unicast json": "{}"}

    def __init__(self) -> None:
        self.asked: list[list[str]] = []

    def __call__(self, argv, **kwargs):
        argv = list(argv)
        self.asked.append(argv)
        out, code = "", 0
        if "vtysh" in argv:
            out = self.answers.get(argv[-1], "")
        elif argv[-1] == "spawned":
            out = "4242\n"
        elif argv[:3] == ["docker", "inspect", "-f"]:
            out = "true\n" if argv[-1] == "clab-seattle-sea-pr1" else ""
            code = 0 if out else 1
        return subprocess.CompletedProcess(argv, code, out, "")


@pytest.fixture
def docker(monkeypatch) -> RecordedDocker:
    recorded = RecordedDocker()
    monkeypatch.setattr(host_module.subprocess, "run", recorded)
    return recorded


def test_run_is_docker_exec_in_the_nodes_container(docker):
    result = DockerHost("seattle").run("sea-pr1", ["ip", "-j", "link"])
    assert docker.asked == [["docker", "exec", "clab-seattle-sea-pr1", "ip", "-j", "link"]]
    assert result.returncode == 0


def test_a_failed_command_names_the_full_argv(monkeypatch):
    monkeypatch.setattr(host_module.subprocess, "run", lambda argv, **kw:
                        subprocess.CompletedProcess(argv, 1, "", "no such container"))
    with pytest.raises(CommandFailed, match="docker exec clab-seattle-rs birdc"):
        DockerHost("seattle").run("rs", ["birdc", "show", "status"])
    assert DockerHost("seattle").run("rs", ["true"], check=False).returncode == 1


def test_spawn_detaches_in_the_container_and_returns_its_pid(docker):
    pid = DockerHost("seattle").spawn("sea-pr1", ["gobgpd", "-f", "x.toml", "spawned"],
                                      Path("/var/lib/maps-lab/gobgp/gobgpd.log"),
                                      env={"A": "1"})
    [argv] = docker.asked
    assert pid == 4242
    assert argv[:7] == ["docker", "exec", "-e", "A=1", "-e",
                        "MAPSLAB_LOG=/var/lib/maps-lab/gobgp/gobgpd.log", "clab-seattle-sea-pr1"]
    assert argv[7:10] == ["sh", "-c", 'setsid "$@" </dev/null >>"$MAPSLAB_LOG" 2>&1 & echo $!']
    assert argv[10:] == ["sh", "gobgpd", "-f", "x.toml", "spawned"]


def test_the_frr_kind_observes_through_docker_exec(seattle, docker):
    node = seattle.node("sea-pr1")
    view = registry.kind_of(node).observe(DockerHost("seattle"), node, Path("/var/run/frr"))
    assert docker.asked[0] == ["docker", "exec", "clab-seattle-sea-pr1", "vtysh", "--vty_socket",
                               "/var/run/frr", "-c", "show bgp neighbors json"]
    [neighbor] = view.neighbors
    assert (neighbor.address, neighbor.state, neighbor.remote_asn) == \
        ("127.0.0.3", "Established", 8075)
    assert (neighbor.received, neighbor.accepted, neighbor.max_prefix, neighbor.families) == \
        (2, 2, 500, ("ipv4",))


def test_the_frr_kind_reads_its_routes_through_docker_exec(seattle, docker):
    node = seattle.node("sea-pr1")
    routes = registry.kind_of(node).routes(DockerHost("seattle"), node, Path("/var/run/frr"))
    assert routes == {"4.144.0.0/16", "13.64.0.0/11", "192.0.2.0/24"}


def test_router_views_read_every_program_in_its_own_directory(seattle, docker):
    views = deploy.router_views(seattle, DockerHost("seattle"))
    assert sorted(v.node for v in views) == sorted(
        n.name for n in seattle.nodes if n.software in ("frr", "bird"))
    asked = {tuple(a[2:4]) + tuple(a[4:7]) for a in docker.asked}
    assert ("clab-seattle-sea-pr2", "vtysh", "--vty_socket", "/var/run/frr", "-c") in asked
    assert ("clab-seattle-rs", "birdc", "-s", "/run/bird/bird.ctl", "show protocols all") in asked


def test_runtime_protocol_on_a_deployed_lab(docker):
    runtime = ContainerlabRuntime("seattle")
    runtime.create_node("sea-pr1", {"net.ipv4.ip_forward": "1"})
    runtime.configure("sea-pr1", "lag0m1", arp=False)
    runtime.configure("sea-pr1", "lag0", ["198.18.0.0/31", "2001:db8:ffff::/127"])
    runtime.create_veth("sea-pr1", "lag0m3", "sea-ms1", "lag0m3")
    runtime.destroy(["sea-pr1", "sea-ms1"])
    assert docker.asked == [
        ["docker", "inspect", "-f", "{{.State.Running}}", "clab-seattle-sea-pr1"],
        ["docker", "exec", "clab-seattle-sea-pr1", "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"],
        ["docker", "exec", "clab-seattle-sea-pr1", "ip", "link", "set", "lag0m1", "arp", "off"],
        ["docker", "exec", "clab-seattle-sea-pr1", "ip", "link", "set", "lag0m1", "up"],
        ["docker", "exec", "clab-seattle-sea-pr1", "ip", "link", "set", "lag0", "up"],
        ["docker", "exec", "clab-seattle-sea-pr1", "ip", "address", "add", "198.18.0.0/31",
         "dev", "lag0"],
        ["docker", "exec", "clab-seattle-sea-pr1", "ip", "address", "add",
         "2001:db8:ffff::/127", "dev", "lag0", "nodad"],
        ["containerlab", "tools", "veth", "create", "-a", "clab-seattle-sea-pr1:lag0m3",
         "-b", "clab-seattle-sea-ms1:lag0m3"],
        ["docker", "rm", "-f", "clab-seattle-sea-pr1", "clab-seattle-sea-ms1"],
    ]


def test_nodes_are_made_by_deploy_not_one_by_one(docker):
    with pytest.raises(LabStateError, match="containerlab creates a lab's nodes at deploy"):
        ContainerlabRuntime("seattle").create_node("sea-pr9", {})
