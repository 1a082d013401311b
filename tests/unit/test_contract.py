"""`mapslab contract`: what the lab provides each node and what its configuration must do."""
from __future__ import annotations

import json
from pathlib import Path

from emulator.cli.main import main
from emulator.core.page import MICROSOFT_ASN
from emulator.plan.contract import contracts
from emulator.plan.resolve import resolve
from emulator.topology.loader import load

ROOT = Path(__file__).resolve().parents[2]
PLAN = resolve(load(ROOT / "topologies" / "seattle.yaml"))


def test_peer_router_contract_names_lag_lan_and_every_neighbor():
    (pr1,) = contracts(PLAN, "sea-pr1")
    lag = next(i for i in pr1.interfaces if i.kind == "lag")
    assert (lag.name, lag.addresses, lag.members) == ("lag0", ("198.18.0.0/31",
                                                               "2001:db8:ffff::/127"),
                                                      ("lag0m1", "lag0m2"))
    microsoft = [n for n in pr1.neighbors if n.purpose == "microsoft"]
    assert {(n.address, n.remote_asn, n.family, n.over) for n in microsoft} == {
        ("198.18.0.1", MICROSOFT_ASN, "ipv4", "lag0"),
        ("2001:db8:ffff::1", MICROSOFT_ASN, "ipv6", "lag0")}
    assert {n.purpose for n in pr1.neighbors} == {"microsoft", "route-server", "partner"}
    assert all(n.over == "ix0" for n in pr1.neighbors if n.purpose != "microsoft")
    assert "max-prefix" in {e.rule for e in pr1.expectations}
    assert "between 400 and 500" in next(e.text for e in pr1.expectations if e.rule == "max-prefix")


def test_only_the_exchange_side_is_in_the_contract():
    assert {c.node for c in contracts(PLAN)} == {"rs", "sea-pr1", "sea-pr2", "fabrikam", "tailspin"}


def test_contract_json_and_write_config(tmp_path, capsys):
    assert main(["contract", str(ROOT / "topologies" / "seattle.yaml"), "sea-pr2",
                 "--format", "json"]) == 0
    (data,) = json.loads(capsys.readouterr().out)
    assert data["node"] == "sea-pr2" and data["asn"] == PLAN.peer_asn
    assert main(["contract", str(ROOT / "topologies" / "seattle.yaml"),
                 "--write-config", str(tmp_path)]) == 0
    assert (tmp_path / "sea-pr1-bgpd.conf").read_text().startswith("frr defaults traditional")
    assert (tmp_path / "rs-bird.conf").exists()


def test_unknown_node_is_a_usage_error(capsys):
    assert main(["contract", str(ROOT / "topologies" / "seattle.yaml"), "nope"]) == 2
    assert "no node 'nope'" in capsys.readouterr().err


def test_registry_finds_every_kind_even_after_one_was_imported_directly():
    import emulator.nodes.bird  # noqa: F401  (registers BIRD on import)
    from emulator.nodes import registry
    from emulator.plan.model import Role
    assert {"frr", "bird"} <= set(registry.softwares(Role.PEER_ROUTER)) | {"frr"}
    assert "frr" in registry.softwares(Role.PEER_ROUTER)
