"""The Microsoft edge's policy exercised with real announcements from the peer side."""
from __future__ import annotations

import ipaddress
import json
import subprocess

import pytest
import yaml

from emulator.observe import observers as observe
from emulator.core import wait
from emulator.nodes import frr
from emulator.runtime.netns import namespace
from emulator.topology.addresses import Use, classify_prefix
from tests.integration.conftest import LAB_PREFIX, lab_named, topology_copy

pytestmark = pytest.mark.integration
LINK_A = "198.18.0.1"        # sea-ms1's address on link sea-1-a


# Declared by the peer in the lab's topology; `mapslab validate` refuses it (MAPS-PREFIX-PUBLIC),
# so the lab is built with --skip-validation: the edge must still reject it.
NOT_ROUTABLE = "10.66.0.0/16"
PUBLIC = "185.100.2.0/24"     # public, not Microsoft's: for the rules that need a plain prefix


@pytest.fixture(scope="module")
def policy_lab(tmp_path_factory):
    name = f"{LAB_PREFIX}policy"
    path = topology_copy(tmp_path_factory.mktemp("topo"), name)
    data = yaml.safe_load(path.read_text())
    data["peering"]["prefixes"].append({"prefix": NOT_ROUTABLE, "traffic-class": "voice",
                                        "endpoints": "sbc", "activated": True})
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with lab_named(name, path, validate_rules=False) as running:
        yield running


def announce(lab, prefixes: list[str], withdraw: bool = False, prepend: list[int] = ()) -> None:
    """Originate (or withdraw) prefixes from sea-pr1, optionally with a prepended AS path."""
    d = lab.node_dir("sea-pr1")
    lines = ["router bgp 64500", " address-family ipv4 unicast"]
    if prepend:
        path = " ".join(str(a) for a in prepend)
        lines = ["route-map PREPEND permit 10", f" set as-path prepend {path}"] + lines
    for prefix in prefixes:
        statement = f"network {prefix}" + (" route-map PREPEND" if prepend else "")
        lines.append(f"  {'no ' if withdraw else ''}{statement}")
    commands = ["conf t"] + lines + ["end"]
    argv = ["vtysh", "--vty_socket", str(d)] + [x for c in commands for x in ("-c", c)]
    subprocess.run(argv, check=True, capture_output=True, text=True, timeout=60)


def edge_view(lab, prefix: str) -> dict | None:
    for edge in observe.edge_routes(lab.plan, lab.node_dir):
        if edge.lag == "sea-1-a":
            return edge.peers.get("198.18.0.0", {}).get(prefix)
    return None


def wait_edge(lab, prefix: str, expected: dict | None) -> dict | None:
    def diff(route):
        if expected is None:
            return "" if route is None else f"{prefix} still at the edge: {route}"
        if route is None:
            return f"{prefix} not at the edge"
        return "\n".join(wait.subset_diff(expected, route))
    return wait.until("prefixes", lambda: edge_view(lab, prefix), diff)


def test_private_asn_in_the_path_is_rejected(policy_lab):
    announce(policy_lab, ["100.100.1.0/24"], prepend=[65000])
    route = wait_edge(policy_lab, "100.100.1.0/24", {"outcome": "rejected", "rule": "MS-PRIVATE-ASN"})
    assert route["as_path"] == [64500, 65000]
    announce(policy_lab, ["100.100.1.0/24"], withdraw=True)
    wait_edge(policy_lab, "100.100.1.0/24", None)


def test_longer_than_24_not_activated_is_rejected(policy_lab):
    announce(policy_lab, ["192.0.2.128/25"])
    wait_edge(policy_lab, "192.0.2.128/25", {"outcome": "rejected", "rule": "MS-LONG-PREFIX"})
    announce(policy_lab, ["192.0.2.128/25"], withdraw=True)
    wait_edge(policy_lab, "192.0.2.128/25", None)


def test_unregistered_origin_is_not_optimized(policy_lab):
    assert classify_prefix(PUBLIC).use is Use.PUBLIC
    assert not any(ipaddress.ip_network(PUBLIC).overlaps(ipaddress.ip_network(p))
                   for p in policy_lab.plan.microsoft_prefixes)
    announce(policy_lab, [PUBLIC], prepend=[64499])
    wait_edge(policy_lab, PUBLIC, {"outcome": "not-optimized", "rule": "MS-REGISTERED"})
    announce(policy_lab, [PUBLIC], withdraw=True)
    wait_edge(policy_lab, PUBLIC, None)


def test_registered_but_not_activated_is_not_optimized(policy_lab):
    # AS64500 is registered (auto turn-up); PUBLIC was never activated with its key.
    announce(policy_lab, [PUBLIC])
    route = wait_edge(policy_lab, PUBLIC, {"outcome": "not-optimized", "rule": "MS-ACTIVATED"})
    assert route["as_path"] == [64500]
    announce(policy_lab, [PUBLIC], withdraw=True)
    wait_edge(policy_lab, PUBLIC, None)


def test_a_declared_prefix_that_is_not_publicly_routable_is_rejected(policy_lab):
    # Declared and activated in a lab built with --skip-validation: the edge judges it anyway,
    # with the validator's own table (RFC 1918).
    route = wait_edge(policy_lab, NOT_ROUTABLE, {"outcome": "rejected", "rule": "MS-ROUTABLE"})
    assert "private-use (RFC 1918 3)" in route["reason"]
    assert not kernel_has(policy_lab, "sea-ms1", NOT_ROUTABLE)


def test_a_prefix_inside_microsofts_space_is_rejected(policy_lab):
    own = next(p for p in policy_lab.plan.microsoft_prefixes
               if ":" not in p and ipaddress.ip_network(p).prefixlen < 24)
    inside = str(next(ipaddress.ip_network(own).subnets(new_prefix=24)))
    announce(policy_lab, [inside])
    try:
        route = wait_edge(policy_lab, inside, {"outcome": "rejected",
                                               "rule": "MS-MICROSOFT-SPACE"})
        assert own in route["reason"]
    finally:
        announce(policy_lab, [inside], withdraw=True)
    wait_edge(policy_lab, inside, None)


def kernel_has(lab, node: str, prefix: str) -> bool:
    """Whether the edge router's forwarding table holds a route for the prefix."""
    out = subprocess.run(["ip", "-n", namespace(lab.plan.lab, node), "route", "show", prefix],
                         capture_output=True, text=True, timeout=10).stdout
    return bool(out.strip())


def configure(lab, *lines: str) -> None:
    commands = ["conf t", "router bgp 64500", " address-family ipv4 unicast", *lines, "end"]
    argv = ["vtysh", "--vty_socket", str(lab.node_dir("sea-pr1"))]
    subprocess.run(argv + [x for c in commands for x in ("-c", c)], check=True,
                   capture_output=True, timeout=60)


def test_a_route_that_holds_8075_is_discarded(policy_lab):
    # The peer router's own policy never sends such a route; lift it to see the edge's.
    configure(policy_lab, f"  no neighbor {LINK_A} route-map TO-MICROSOFT out")
    try:
        announce(policy_lab, ["100.100.3.0/24"], prepend=[8075])
        route = wait_edge(policy_lab, "100.100.3.0/24", {"outcome": "discarded", "rule": "MS-LOOP"})
        assert 8075 in route["as_path"]
        assert observe.microsoft_prefix_count(policy_lab.plan, "sea-pr1",
                                              policy_lab.node_dir("sea-pr1"))["ipv4"] == 280
    finally:
        announce(policy_lab, ["100.100.3.0/24"], withdraw=True)
        configure(policy_lab, f"  neighbor {LINK_A} route-map TO-MICROSOFT out")


def _many(count: int) -> list[str]:
    return [f"100.{101 + i // 256}.{i % 256}.0/24" for i in range(count)]


def test_max_prefix_322_is_fine_501_tears_the_session_down(policy_lab):
    limit = policy_lab.plan.edge_max_prefix
    assert limit == 500
    # The peer's own IPv4 prefixes (NOT_ROUTABLE among them) and the members'.
    # The 8075 test's routes (sent while the route-map was lifted) go once FRR applies it again.
    base = 4

    def held() -> int:
        return len(next(e for e in observe.edge_routes(policy_lab.plan, policy_lab.node_dir)
                        if e.lag == "sea-1-a").peers.get("198.18.0.0", {}))
    wait.until("prefixes", held, lambda n: "" if n == base else f"{n} prefixes, expected {base}")
    extra = _many(limit + 1 - base)
    announce(policy_lab, extra[:322 - base])
    wait.until("prefixes", lambda: len(next(e for e in observe.edge_routes(
        policy_lab.plan, policy_lab.node_dir) if e.lag == "sea-1-a").peers.get("198.18.0.0", {})),
               lambda n: "" if n == 322 else f"{n} of 322 prefixes at the edge")
    assert [e for e in policy_lab.dir.events() if e["kind"] == "max-prefix"] == []
    announce(policy_lab, extra[322 - base:])
    # sea-pr2 learns the same routes over iBGP and offers them on link B too: its edge may trip
    # first, so look for link A's teardown.
    teardown = wait.until("prefixes", lambda: [e for e in policy_lab.dir.events()
                                               if e["kind"] == "max-prefix"
                                               and e.get("peer") == "198.18.0.0"],
                          lambda found: "" if found else "no max-prefix teardown recorded")
    assert teardown[0]["count"] == limit + 1 and teardown[0]["limit"] == limit
    assert teardown[0]["peer"] == "198.18.0.0"

    # RFC 4486 3: the peer router was told why (Cease, Maximum Number of Prefixes Reached).
    def last_notification():
        out = subprocess.run(frr.vtysh(policy_lab.node_dir("sea-pr1"),
                                       f"show bgp neighbors {LINK_A} json"),
                             capture_output=True, text=True, timeout=10).stdout
        return json.loads(out or "{}").get(LINK_A, {})
    seen = wait.until("prefixes", last_notification,
                      lambda n: "" if "Maximum Number of Prefixes" in json.dumps(n)
                      else f"FRR's last notification: {n.get('lastNotificationReason')}")
    assert "Cease" in json.dumps(seen)
    announce(policy_lab, extra, withdraw=True)
