"""Every rendered topology loads in containerlab: valid against its own JSON Schema."""
from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from emulator.runtime import containerlab
from tests.containerlab.conftest import TOPOLOGIES, plan_of

# containerlab's own schema, kept in the repository (schema/README.md: source commit, licence).
SCHEMA = Path(__file__).resolve().parent / "schema" / "clab.schema.json"


@pytest.fixture(scope="module")
def validator():
    schema = json.loads(SCHEMA.read_text())
    # Not check_schema(): the schema's IP address patterns use \p{L}, which Python's re lacks;
    # they apply to keys maps-lab does not write (mgmt addresses, vxlan remotes).
    return jsonschema.validators.validator_for(schema)(schema)


def _problems(validator, document) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
            for e in sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))]


@pytest.mark.parametrize("topology", TOPOLOGIES, ids=lambda p: p.stem)
def test_rendered_topology_is_valid(topology: Path, tmp_path: Path, validator):
    rendered = containerlab.render(plan_of(topology), tmp_path)
    document = yaml.safe_load(rendered.topology_file.read_text())
    assert _problems(validator, document) == []


def test_topology_with_a_nos_peer_router_is_valid(seattle, tmp_path: Path, validator):
    config = tmp_path / "sea-pr1.cfg"
    config.write_text("hostname sea-pr1\n")
    overrides = {"sea-pr1": containerlab.NodeOverride(
        kind="arista_ceos", image="ceos:4.32.0F", startup_config=config,
        interfaces={"lag0m1": "eth1", "lag0m2": "eth2", "ix0": "eth3"})}
    rendered = containerlab.render(seattle, tmp_path / "out", overrides)
    document = yaml.safe_load(rendered.topology_file.read_text())
    assert _problems(validator, document) == []


def test_the_schema_catches_a_broken_topology(validator):
    """The check has teeth: an unknown node key and a bad endpoint are reported."""
    document = {"name": "x", "topology": {"nodes": {"a": {"kind": "linux", "colour": "red"}},
                                          "links": [{"endpoints": ["a:eth1", "b:eth1"],
                                                     "speed": 1}]}}
    assert len(_problems(validator, document)) >= 2


def test_topology_with_other_router_programs_is_valid(seattle, tmp_path: Path, validator):
    """Peer routers on BIRD and OpenBGPD (the user's own file on one): still containerlab's."""
    import dataclasses
    config = tmp_path / "pr1.conf"
    config.write_text("router id 100.127.0.2;\n")
    nodes = tuple(dataclasses.replace(n, software="bird", config=str(config))
                  if n.name == "sea-pr1" else
                  dataclasses.replace(n, software="openbgpd") if n.name == "sea-pr2" else n
                  for n in seattle.nodes)
    rendered = containerlab.render(dataclasses.replace(seattle, nodes=nodes), tmp_path / "out")
    document = yaml.safe_load(rendered.topology_file.read_text())
    assert _problems(validator, document) == []


def test_the_schema_is_kept_with_its_licence_and_source():
    """The schema is a file of the repository (never skipped for want of it), with containerlab's
    BSD-3-Clause text and the commit it was copied from."""
    folder = SCHEMA.parent
    assert folder.is_relative_to(Path(__file__).resolve().parents[2])
    assert json.loads(SCHEMA.read_text())["$schema"].startswith("http")
    licence = (folder / "LICENSE").read_text()
    assert "Redistribution and use in source and binary forms" in licence
    assert "Neither the name of the copyright holder" in licence      # the third clause
    assert "39ff2b7ccce20f3c4610fcbd1fc030582f4499c1" in (folder / "README.md").read_text()
