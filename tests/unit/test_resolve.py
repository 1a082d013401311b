"""Intent → plan: nodes, LAGs, addresses and sessions of the default lab."""
from __future__ import annotations

import pytest

from emulator.core.errors import PlanError
from emulator.topology.loader import load
from emulator.core.page import MICROSOFT_ASN
from emulator.plan.model import Role
from emulator.plan.resolve import load_prefix_set, resolve
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def plan():
    return resolve(load(ROOT / "topologies" / "seattle.yaml"))


def test_nodes_per_location(plan):
    roles = {n.name: n.role for n in plan.nodes}
    assert roles == {"rs": Role.ROUTE_SERVER, "sea-pr1": Role.PEER_ROUTER,
                     "sea-pr2": Role.PEER_ROUTER, "fabrikam": Role.MEMBER,
                     "tailspin": Role.MEMBER, "sea-ms1": Role.EDGE, "sea-ms2": Role.EDGE,
                     "ixlan": Role.SWITCH, "internet": Role.INTERNET}


def test_two_link_mesh_of_lags(plan):
    assert [(l.name, l.a_node, l.b_node, l.ifname) for l in plan.lags] == [
        ("sea-1-a", "sea-pr1", "sea-ms1", "lag0"), ("sea-1-b", "sea-pr2", "sea-ms2", "lag1")]
    assert [m.a_ifname for m in plan.lags[0].members] == ["lag0m1", "lag0m2"]
    lag = plan.lags[1]
    assert (lag.a_ipv4, lag.b_ipv4, lag.a_ipv6, lag.b_ipv6) == (
        "198.18.0.2/31", "198.18.0.3/31", "2001:db8:ffff::2/127", "2001:db8:ffff::3/127")


def test_interconnect_sessions_one_per_family_per_link(plan):
    inter = [(s.name, s.a_address, s.a_asn, s.b_address, s.b_asn) for s in plan.sessions
             if s.interconnect]
    assert inter == [
        ("sea-1-a-v4", "198.18.0.0", 64500, "198.18.0.1", MICROSOFT_ASN),
        ("sea-1-a-v6", "2001:db8:ffff::", 64500, "2001:db8:ffff::1", MICROSOFT_ASN),
        ("sea-1-b-v4", "198.18.0.2", 64500, "198.18.0.3", MICROSOFT_ASN),
        ("sea-1-b-v6", "2001:db8:ffff::2", 64500, "2001:db8:ffff::3", MICROSOFT_ASN)]


def test_exchange_and_internet_sessions(plan):
    names = {s.name for s in plan.sessions if not s.interconnect}
    assert names == {f"{n}-{f}" for n in ("sea-pr1-rs", "sea-pr2-rs", "fabrikam-rs",
                                          "tailspin-rs", "sea-pr1-sea-pr2", "sea-ms1-internet",
                                          "sea-ms2-internet") for f in ("v4", "v6")}


def test_every_edge_has_a_link_to_the_internet(plan):
    assert [(l.a_node, l.a_ifname, l.b_node, l.b_ifname, l.a_ipv4, l.b_ipv4) for l in plan.links] == [
        ("sea-ms1", "inet0", "internet", "edge0", "198.18.1.1/31", "198.18.1.0/31"),
        ("sea-ms2", "inet0", "internet", "edge1", "198.18.1.3/31", "198.18.1.2/31")]


def test_microsoft_prefix_set(plan):
    v4 = [p for p in plan.microsoft_prefixes if ":" not in p]
    assert len(v4) == 280
    assert 30 <= len(plan.microsoft_prefixes) - len(v4) <= 40


def test_session_addresses_allocated_when_absent():
    topo = load(ROOT / "topologies" / "seattle.yaml")
    conn = topo.connections[0]
    links = [link.model_copy(update={"ipv4": None, "ipv6": None}) for link in conn.links]
    topo = topo.model_copy(update={"connections": [conn.model_copy(update={"links": links})]})
    plan = resolve(topo)
    assert [l.a_ipv4 for l in plan.lags] == ["198.18.0.0/31", "198.18.0.2/31"]
    assert [l.b_ipv6 for l in plan.lags] == ["2001:db8:ffff::1/127", "2001:db8:ffff::3/127"]


def test_edge_name_clash_is_refused():
    topo = load(ROOT / "topologies" / "seattle.yaml")
    routers = [topo.routers[0].model_copy(update={"name": "sea-ms1"}), topo.routers[1]]
    conn = topo.connections[0]
    links = [conn.links[0].model_copy(update={"peer_router": "sea-ms1"}), conn.links[1]]
    topo = topo.model_copy(update={"routers": routers,
                                   "connections": [conn.model_copy(update={"links": links})]})
    with pytest.raises(PlanError, match="used twice"):
        resolve(topo)


def test_bad_prefix_set_line(tmp_path):
    bad = tmp_path / "set.txt"
    bad.write_text("# comment\n13.64.0.0/11\n13.64.0.1/11\n")
    with pytest.raises(PlanError, match="set.txt:3"):
        load_prefix_set(str(bad))


# ---- host routes: a /32 or /128 advertised prefix is its own one endpoint ----

@pytest.mark.parametrize("prefix, host", [
    ("192.0.2.7/32", "192.0.2.7/32"), ("2001:db8::1/128", "2001:db8::1/128"),
    ("192.0.2.6/31", "192.0.2.7/32"), ("192.0.2.0/24", "192.0.2.1/32"),
    ("2001:db8:100::/48", "2001:db8:100::1/128"),
])
def test_first_host_of_every_length(prefix: str, host: str):
    from emulator.plan.resolve import first_host
    assert first_host(prefix) == host


def test_a_lab_announcing_host_routes_resolves():
    from emulator.topology.loader import parse
    text = (ROOT / "topologies" / "seattle.yaml").read_text().replace(
        "prefix: 192.0.2.0/24", "prefix: 192.0.2.7/32").replace(
        "prefix: 2001:db8:100::/48", "prefix: 2001:db8:100::1/128")
    plan = resolve(parse(text, "host-routes.yaml"))
    router = plan.node("sea-pr1")
    assert router.announces[:2] == ("192.0.2.7/32", "2001:db8:100::1/128")
    assert router.endpoints[:2] == ("192.0.2.7/32", "2001:db8:100::1/128")


def _seattle_with_links(first: str, second: str | None) -> str:
    text = (ROOT / "topologies" / "seattle.yaml").read_text()
    text = text.replace("ipv4: 198.18.0.0/31", first)
    return text.replace("        ipv4: 198.18.0.2/31\n", "" if second is None else second)


def test_a_planned_link_never_overlaps_a_declared_one():
    from emulator.topology.loader import parse
    # link a declares a /30 that covers the pool's first two /31s; link b takes the next free one
    plan = resolve(parse(_seattle_with_links("ipv4: 198.18.0.0/30", None), "t.yaml"))
    assert [lag.a_ipv4 for lag in plan.lags] == ["198.18.0.0/30", "198.18.0.4/31"]


def test_the_internet_links_skip_a_declared_link_subnet():
    from emulator.topology.loader import parse
    plan = resolve(parse(_seattle_with_links("ipv4: 198.18.1.0/31",
                                             "        ipv4: 198.18.1.2/31\n"), "t.yaml"))
    internet = [link for link in plan.links if link.a_node.startswith("sea-ms")]
    assert [(link.a_ipv4, link.b_ipv4) for link in internet] == [
        ("198.18.1.5/31", "198.18.1.4/31"), ("198.18.1.7/31", "198.18.1.6/31")]


def test_a_plan_bigger_than_the_address_pool_is_refused_by_name():
    import ipaddress
    from emulator.plan import resolve as resolver
    pairs = resolver._pairs(ipaddress.ip_network("198.18.0.0/30"), {"198.18.0.0/31"}, "links")
    assert next(pairs) == "198.18.0.2/31"
    with pytest.raises(PlanError, match="links: the pool 198.18.0.0/30 has no free /31 left"):
        next(pairs)
