"""A connection with a TCP MD5 key (RFC 2385): ExaBGP on the edges and every router program's
lab-made configuration sign the Microsoft sessions, and every check passes; a router that drops
its key is refused by the edge's kernel, and mesh-formed names the drops.
(topologies/broken/md5-missing.yaml shows the same with the user's own configuration.)"""
from __future__ import annotations

import pytest

from emulator.core import wait
from emulator.judge import checks
from tests.integration.conftest import lab_named, topology_copy

pytestmark = pytest.mark.integration

KEY = "contoso-ix-sea-1"


def _keyed(tmp_path, name: str, first: str, second: str):
    path = topology_copy(tmp_path, name)
    text = path.read_text().replace(
        "    use-for-peering-service: true\n",
        f"    use-for-peering-service: true\n    md5-key: \"{KEY}\"\n", 1)
    head, _, tail = text.partition("    software: frr\n")
    middle, _, rest = tail.partition("    software: frr\n")
    path.write_text(f"{head}    software: {first}\n{middle}    software: {second}\n{rest}")
    return path


def _signed_bgp_sockets(running, node: str) -> int:
    """Established BGP sockets of the node that carry a key (`ss -i` says `md5`; its output
    also holds the key in clear text, so it is only counted, never shown)."""
    out = running.runtime.run(node, ["ss", "-tni", "state", "established",
                                     "( sport = :179 or dport = :179 )"], check=False).stdout
    return out.count(" md5")


@pytest.mark.parametrize("first, second", [("frr", "bird"), ("openbgpd", "gobgp")])
def test_every_program_signs_the_microsoft_sessions_and_every_check_passes(tmp_path, first,
                                                                           second):
    name = f"itmd5{first[0]}{second[0]}"
    with lab_named(name, _keyed(tmp_path, name, first, second)) as running:
        failed = [(v.check, v.evidence[:3]) for v in checks.run_all(running) if not v.passed]
        assert failed == []
        # Both sessions of each edge's link (IPv4, IPv6), signed.
        assert [_signed_bgp_sockets(running, edge) for edge in ("sea-ms1", "sea-ms2")] == [2, 2]


def test_a_router_without_the_key_stays_down_and_mesh_formed_names_the_drops(tmp_path):
    name = "itmd5drop"
    with lab_named(name, _keyed(tmp_path, name, "frr", "frr")) as running:
        assert checks.mesh_formed(running).passed
        d = running.node_dir("sea-pr1")
        running.runtime.run("sea-pr1", ["vtysh", "--vty_socket", str(d), "-c", "configure",
                                        "-c", "router bgp 64500",
                                        "-c", "no neighbor 198.18.0.1 password"])
        verdict = wait.until(
            "ebgp_session", lambda: checks.mesh_formed(running),
            lambda v: "" if not v.passed and any("TcpExtTCPMD5NotFound" in e for e in v.evidence)
            else f"no MD5 drop named yet: {v.summary}")
        assert verdict.evidence[0].startswith("sea-1-a-v4 sea-pr1 → sea-ms1 198.18.0.1: ")
        assert any(e.startswith("sea-ms1: ") and "carried no MD5 signature" in e
                   for e in verdict.evidence), verdict
        assert all(KEY not in e for e in verdict.evidence)
