"""The edge agent's FIB in a real namespace: what it installs is what `ip route` shows."""
from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.integration

NS = "mlt-rtnetlink"
AGENT_FIB = """
from emulator.edge.fib import KernelFib
fib = KernelFib()
fib.install("203.0.113.0/24", "10.9.0.2")
fib.install("203.0.113.0/24", "10.9.0.3")          # replaced, not added
fib.install("2001:db8:77::/48", "2001:db8:9::2")
fib.install("198.51.100.0/24", "10.99.0.1")        # no route to the next hop: kept out
fib.install("2001:db8:78::/48", "10.9.0.2")        # next hop of the other family: kept out
fib.install("192.0.2.0/24", "10.9.0.2")
fib.remove("192.0.2.0/24")
fib.remove("192.0.2.0/24")                         # not there any more: nothing happens
"""


def _ip(*argv: str) -> str:
    return subprocess.run(["ip", "-n", NS, *argv], check=True, capture_output=True,
                          text=True).stdout


@pytest.fixture
def namespace():
    subprocess.run(["ip", "netns", "del", NS], capture_output=True)
    subprocess.run(["ip", "netns", "add", NS], check=True)
    try:
        _ip("link", "add", "v0", "type", "veth", "peer", "name", "v1")
        for ifname in ("v0", "v1"):
            _ip("link", "set", ifname, "up")
        _ip("addr", "add", "10.9.0.1/24", "dev", "v0")
        _ip("addr", "add", "2001:db8:9::1/64", "dev", "v0", "nodad")
        yield NS
    finally:
        subprocess.run(["ip", "netns", "del", NS], check=True)


def test_installs_replaces_and_removes_routes_as_ip_route_shows_them(namespace):
    subprocess.run(["ip", "netns", "exec", namespace, sys.executable, "-c", AGENT_FIB],
                   check=True)
    v4 = _ip("route", "show", "proto", "bgp").split("\n")
    v6 = _ip("-6", "route", "show", "proto", "bgp")
    assert [line.split()[:3] for line in v4 if line] == [["203.0.113.0/24", "via", "10.9.0.3"]]
    assert v6.split()[:3] == ["2001:db8:77::/48", "via", "2001:db8:9::2"]
    assert "2001:db8:78::" not in v6
