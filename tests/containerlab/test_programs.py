"""Every router program renders into the containerlab topology through its node kind; the user's
own configuration file is copied byte for byte; other programs' images are rendered from Debian."""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
import yaml

from emulator.core.errors import PlanError
from emulator.nodes import registry
from emulator.plan.model import Plan
from emulator.runtime import containerlab
from emulator.runtime.containerlab import programs
from emulator.plan import planfile
from emulator.runtime.containerlab.overrides import NodeOverride


def with_software(plan: Plan, **software: str) -> Plan:
    nodes = tuple(dataclasses.replace(n, software=software[n.name.replace("-", "_")])
                  if n.name.replace("-", "_") in software else n for n in plan.nodes)
    return dataclasses.replace(plan, nodes=nodes)


def with_config(plan: Plan, node: str, path: Path) -> Plan:
    nodes = tuple(dataclasses.replace(n, config=str(path)) if n.name == node else n
                  for n in plan.nodes)
    return dataclasses.replace(plan, nodes=nodes)


@pytest.fixture
def own_routers(seattle) -> Plan:
    return with_software(seattle, sea_pr1="bird", sea_pr2="openbgpd")


def clab_nodes(rendered) -> dict:
    return yaml.safe_load(rendered.topology_file.read_text())["topology"]["nodes"]


def test_bird_on_a_peer_router_is_rendered_by_its_kind(own_routers, tmp_path):
    rendered = containerlab.render(own_routers, tmp_path)
    node = clab_nodes(rendered)["sea-pr1"]
    assert node["image"] == "maps-lab/bird:latest"
    assert node["binds"] == ["nodes/sea-pr1:/maps-lab:ro", "nodes/sea-pr1/bird:/etc/bird"]
    plan_node = own_routers.node("sea-pr1")
    expected = registry.kind_of(plan_node).render(own_routers, plan_node, Path("/run/bird"))
    assert (tmp_path / "nodes/sea-pr1/bird/bird.conf").read_text() == expected
    assert "protocol bgp" in expected
    start = (tmp_path / "nodes/sea-pr1/start.sh").read_text()
    assert "bird -c /etc/bird/bird.conf -s /run/bird/bird.ctl -P /run/bird/bird.pid" in start
    assert "ip link add lag0 type bond" in start


def test_openbgpd_is_started_by_its_kind_through_the_node_agent(own_routers, tmp_path):
    rendered = containerlab.render(own_routers, tmp_path)
    node = clab_nodes(rendered)["sea-pr2"]
    assert node["image"] == "maps-lab/openbgpd:latest"
    assert node["binds"] == ["nodes/sea-pr2:/maps-lab:ro"]
    plan_node = own_routers.node("sea-pr2")
    d = "/var/lib/maps-lab/openbgpd"
    assert (tmp_path / "nodes/sea-pr2/openbgpd/bgpd.conf").read_text() == \
        registry.kind_of(plan_node).render(own_routers, plan_node, Path(d))
    start = (tmp_path / "nodes/sea-pr2/start.sh").read_text().splitlines()
    assert start[-1] == ("PYTHONPATH=/opt/maps-lab/src python3 -m "
                         "emulator.runtime.containerlab.node_agent start /maps-lab/program.json")
    program = json.loads((tmp_path / "nodes/sea-pr2/program.json").read_text())
    assert (program["node"], program["config"], program["dir"]) == \
        ("sea-pr2", "/maps-lab/openbgpd/bgpd.conf", d)
    assert planfile.from_dict(program["plan"]) == own_routers
    # Its image is Debian's openbgpd, the Dockerfile rendered with the lab.
    dockerfile = (tmp_path / "images/openbgpd/Dockerfile").read_text()
    assert "openbgpd python3 iproute2" in dockerfile
    assert (tmp_path / "images/openbgpd/Dockerfile.dockerignore").exists()
    assert "images/openbgpd/Dockerfile" in rendered.files


def test_gobgp_on_a_peer_router(seattle, tmp_path):
    plan = with_software(seattle, sea_pr2="gobgp")
    rendered = containerlab.render(plan, tmp_path)
    assert clab_nodes(rendered)["sea-pr2"]["image"] == "maps-lab/gobgp:latest"
    assert (tmp_path / "nodes/sea-pr2/gobgp/gobgpd.toml").is_file()
    assert (tmp_path / "images/gobgp/Dockerfile").is_file()
    assert not (tmp_path / "images/openbgpd").exists()


def test_the_users_own_config_is_copied_byte_for_byte(own_routers, tmp_path):
    own = tmp_path / "configs" / "pr1.conf"
    own.parent.mkdir()
    # CRLF, no final newline, a byte that is not UTF-8: nothing is normalised.
    own.write_bytes(b"# mine\r\nrouter id 100.127.0.2;\r\n\xfe protocol device {}")
    plan = with_config(own_routers, "sea-pr1", own)
    rendered = containerlab.render(plan, tmp_path / "out")
    assert (tmp_path / "out/nodes/sea-pr1/bird/bird.conf").read_bytes() == own.read_bytes()
    assert "nodes/sea-pr1/bird:/etc/bird" in clab_nodes(rendered)["sea-pr1"]["binds"]
    assert own.read_bytes().startswith(b"# mine\r\n")       # and the original is untouched


def test_a_users_own_openbgpd_config_reaches_the_agent_unchanged(own_routers, tmp_path):
    own = tmp_path / "pr2.conf"
    own.write_bytes(b"AS 64500\nsocket \"/run/openbgpd/mine.sock\"\n")
    containerlab.render(with_config(own_routers, "sea-pr2", own), tmp_path / "out")
    assert (tmp_path / "out/nodes/sea-pr2/openbgpd/bgpd.conf").read_bytes() == own.read_bytes()


def test_a_missing_own_config_is_refused_before_anything_is_written(own_routers, tmp_path):
    plan = with_config(own_routers, "sea-pr1", tmp_path / "nowhere.conf")
    with pytest.raises(PlanError, match="nowhere.conf does not exist"):
        containerlab.render(plan, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_program_without_a_container_start_is_named(seattle, monkeypatch, tmp_path):
    frr = registry.kinds()["frr"]

    @dataclasses.dataclass
    class Xbgp:
        software = "xbgp"
        roles = frr.roles
        config_name = "xbgp.conf"

    monkeypatch.setitem(registry._KINDS, "xbgp", Xbgp())
    with pytest.raises(PlanError, match="xbgp has no start-up in containers"):
        containerlab.render(with_software(seattle, sea_pr1="xbgp"), tmp_path)


def test_an_own_image_needs_no_rendered_dockerfile(own_routers, tmp_path):
    overrides = {"sea-pr2": NodeOverride(image="registry.example/my-openbgpd:7.7")}
    rendered = containerlab.render(own_routers, tmp_path, overrides)
    assert clab_nodes(rendered)["sea-pr2"]["image"] == "registry.example/my-openbgpd:7.7"
    assert not (tmp_path / "images").exists()


def test_every_program_has_one_directory_for_render_start_and_observe():
    for software, program in programs.PROGRAMS.items():
        assert program.run_dir.startswith("/"), software
        assert software in registry.kinds(), f"{software} is not a node kind"


def test_the_agents_plan_names_no_path_of_the_rendering_machine(own_routers, tmp_path):
    own = tmp_path / "pr2.conf"
    own.write_bytes(b"AS 64500\n")
    containerlab.render(with_config(own_routers, "sea-pr2", own), tmp_path / "out")
    text = (tmp_path / "out/nodes/sea-pr2/program.json").read_text()
    assert str(tmp_path) not in text
    # Only the file's name, which says its format (GoBGP reads TOML, YAML or JSON by it).
    assert planfile.from_dict(json.loads(text)["plan"]).node("sea-pr2").config == "pr2.conf"
