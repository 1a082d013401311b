"""The containerlab rendering and the embedded runtime build the same lab from the same plan.

The embedded runtime is driven through emulator.lab.lifecycle's build with a recording runtime and a
recording netlink (no root), and stopped once its LAGs are configured, before any daemon starts.
Both are then compared on nodes, links, interface names, addresses, bonds, the LAN bridge and
sysctls; sessions are compared through the configs the embedded runtime's daemons are given.
"""
from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from emulator.lab import lifecycle as lab
from emulator.nodes import bird, exabgp, frr
from emulator.core.labdir import LabDir, LabState
from emulator.runtime.lag.bond import bond_request
from emulator.plan.model import Plan, Role
from emulator.runtime import containerlab
from emulator.runtime.fake import FakeRuntime
from tests.containerlab import readback
from tests.containerlab.readback import Address, Aggregate, Link


class Built(Exception):
    """Raised at the embedded build's first progress step after its LAGs are configured."""


class RecordingNetlink:
    """Just enough of pyroute2's IPRoute for BondLagDriver: records bonds and their members."""

    def __init__(self, node: str, runtime: RecordingRuntime):
        self.node = node
        self.runtime = runtime

    def link(self, command: str, **kwargs: Any) -> None:
        if command == "add":
            self.runtime.bonds[(self.node, kwargs["ifname"])] = dict(kwargs)
            self.runtime.members[(self.node, kwargs["ifname"])] = []
        elif command == "set" and "master" in kwargs:
            bond = self.runtime.name_of[kwargs["master"]]
            self.runtime.members[(self.node, bond)].append(self.runtime.name_of[kwargs["index"]])

    def link_lookup(self, ifname: str) -> list[int]:
        index = self.runtime.index_of.setdefault((self.node, ifname), next(self.runtime.counter))
        self.runtime.name_of[index] = ifname
        return [index]

    def get_links(self, *args: Any, **kwargs: Any) -> list[Any]:
        return []


class RecordingRuntime(FakeRuntime):
    def __init__(self) -> None:
        super().__init__()
        self.bonds: dict[tuple[str, str], dict[str, Any]] = {}
        self.members: dict[tuple[str, str], list[str]] = {}
        self.index_of: dict[tuple[str, str], int] = {}
        self.name_of: dict[int, str] = {}
        self.counter = itertools.count(1)

    def iproute(self, node: str) -> RecordingNetlink:
        return self._ip(node)

    def _ip(self, node: str) -> RecordingNetlink:
        return RecordingNetlink(node, self)

    def close(self) -> None:
        pass


@pytest.fixture(scope="module")
def embedded(seattle: Plan, tmp_path_factory) -> RecordingRuntime:
    runtime = RecordingRuntime()
    lag_ifnames = {lag.ifname for lag in seattle.lags}

    def step(_: str) -> None:
        addressed = [c for c in runtime.calls if c[0] == "configure" and c[2] in lag_ifnames]
        if len(addressed) == 2 * len(seattle.lags):
            raise Built

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MAPSLAB_LAG", "kernel-bond")
        root = tmp_path_factory.mktemp("run")
        with pytest.raises(Built):
            lab._build(seattle, LabDir(seattle.lab, root), LabState(seattle.lab, "t.yaml", "netns"),
                       runtime, step)
    return runtime


@pytest.fixture(scope="module")
def clab(seattle: Plan, tmp_path_factory):
    return containerlab.render(seattle, tmp_path_factory.mktemp("clab") / "seattle")


@pytest.fixture(scope="module")
def summary(clab) -> readback.LabSummary:
    return readback.summarize(clab.topology_file)


def test_same_nodes(embedded, summary):
    created = [c[1] for c in embedded.calls if c[0] == "create_node"]
    assert sorted(created) == sorted(summary.nodes)


def test_same_links_and_interface_names(embedded, summary):
    veths = sorted(Link.of(f"{c[1]}:{c[2]}", f"{c[3]}:{c[4]}")
                   for c in embedded.calls if c[0] == "create_veth")
    assert veths == list(summary.links)


def test_same_addresses(embedded, summary):
    configured = sorted(Address(c[1], c[2], a) for c in embedded.calls if c[0] == "configure"
                        for a in c[3])
    assert configured == list(summary.addresses)


def test_same_bonds_and_lan_bridge(embedded, summary, seattle):
    bonds = [Aggregate(node, ifname, "bond", tuple(embedded.members[(node, ifname)]))
             for node, ifname in embedded.bonds]
    bridged = tuple(argv[3] for argv in embedded.runs(seattle.lan_switch)
                    if argv[:3] == ("ip", "link", "set") and "master" in argv)
    bridge = Aggregate(seattle.lan_switch, "br0", "bridge", bridged)
    assert sorted(bonds + [bridge]) == list(summary.aggregates)


def test_same_bond_parameters(embedded, clab, seattle):
    """The ip-link options in start.sh say what the embedded runtime's netlink request says."""
    for (node, ifname), request in embedded.bonds.items():
        script = (clab.out_dir / "nodes" / node / "start.sh").read_text()
        line = next(l for l in script.splitlines() if l.startswith(f"ip link add {ifname} "))
        assert " ".join(containerlab.bond_options(request)) in line
        lag = next(lag for lag in seattle.lags if lag.ifname == ifname)
        assert request == bond_request(lag, seattle.node(node).lacp)


def test_container_sysctls_include_the_embedded_ones(embedded, clab):
    import yaml
    nodes = yaml.safe_load(clab.topology_file.read_text())["topology"]["nodes"]
    for call in embedded.calls:
        if call[0] == "create_node":
            assert call[2].items() <= nodes[call[1]]["sysctls"].items(), call[1]


def test_same_sessions(seattle, summary):
    """Sessions in the configs the embedded runtime gives its daemons = those rendered here."""
    addresses = readback.plan_summary(seattle).addresses
    ends: list[readback.SessionEnd] = []
    for node in seattle.nodes:
        if node.role is Role.PEER_ROUTER:
            ends += readback.frr_session_ends(node.name,
                                              frr.render_bgpd(seattle, node, "/x"), addresses)
        elif node.software == "bird":
            ends += readback.bird_session_ends(node.name, bird.render(seattle, node))
    for lag in seattle.lags:
        ends += readback.exabgp_session_ends(
            lag.b_node, exabgp.render(seattle, seattle.node(lag.b_node), lag, Path("/x")))
    for edge in seattle.nodes_with(Role.EDGE):
        ends += readback.exabgp_session_ends(edge.name, exabgp.render_internet(seattle, edge))
    assert sorted(ends) == list(summary.sessions)
    assert len(ends) == 2 * len(seattle.sessions)
