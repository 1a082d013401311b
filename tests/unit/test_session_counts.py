"""Prefix counts per session, both directions, from the programs' own recorded words: what
`status` shows on each row (no root)."""
from __future__ import annotations

import subprocess
from pathlib import Path

from emulator.nodes import bird, frr
from emulator.observe import observers as observe
from emulator.observe import status
from emulator.plan.resolve import resolve
from emulator.topology.loader import load

ROOT = Path(__file__).resolve().parents[2]
NODES = ROOT / "tests" / "fixtures" / "nodes"
PLAN = resolve(load(ROOT / "topologies" / "seattle.yaml"))


def test_a_member_route_server_session_counts_what_birdc_says_both_ways():
    """fabrikam holds 283 IPv4 and 38 IPv6 routes (`show route count`): 282 and 37 of them came
    over its sessions with the route server, and it sends the route server its one prefix."""
    text = (NODES / "bird" / "member" / "birdc-show-protocols-all.txt").read_text()
    view = bird.parse_protocols("fabrikam", text)
    rs4, rs6 = view.neighbor("100.127.0.1"), view.neighbor("fd00:100:127::1")
    assert (rs4.received, rs4.exported) == (282, 1)
    assert (rs6.received, rs6.exported) == (37, 1)
    held = (NODES / "bird" / "member" / "birdc-show-route-count.txt").read_text()
    assert "283 of 283 routes" in held and "38 of 38 routes" in held


def test_frr_says_what_it_sends_each_neighbor():
    text = (NODES / "frr" / "steady" / "vtysh-show-bgp-summary.json").read_text()
    sent = frr.parse_summary_received(text, "pfxSnt")
    assert sent["198.18.0.1"] == 3 and sent["2001:db8:ffff::1"] == 3     # to Microsoft
    assert sent["100.127.0.1"] == 283                                     # to the route server
    assert frr.parse_summary_received(text)["198.18.0.1"] == 280


class MemberHost(observe.LocalHost):
    def run(self, node, argv, check=True, timeout=30.0):
        out = (NODES / "bird" / "member" / "birdc-show-protocols-all.txt").read_text() \
            if argv[0] == "birdc" and argv[-1] == "show protocols all" else ""
        return subprocess.CompletedProcess(list(argv), 0, out, "")


def test_status_shows_received_and_sent_on_a_members_row(tmp_path):
    sessions = observe.node_sessions(PLAN, "fabrikam", tmp_path, MemberHost())
    assert [(s.session, s.state, s.prefixes_received, s.prefixes_sent) for s in sessions] == [
        ("fabrikam-rs-v4", "Established", 282, 1), ("fabrikam-rs-v6", "Established", 37, 1)]
    table = status.status_table(status.Status("unit", "openvswitch", [], sessions, {}, []))
    row = next(line for line in table.splitlines() if "fabrikam-rs-v4" in line)
    assert row.split()[-3:] == ["Established", "282", "1"]
    assert "rcvd  sent" in table


def test_a_program_that_does_not_say_what_it_sends_shows_a_dash():
    unknown = observe.SessionState("s", "ipv4", "sea-pr1", "sea-ms1", "198.18.0.1",
                                   "Established", 280, True, 0.0)
    table = status.status_table(status.Status("unit", "ovs", [], [unknown], {}, []))
    row = next(line for line in table.splitlines() if line.startswith("  s "))
    assert row.split()[-2:] == ["280", "-"]


class TablesHost(observe.LocalHost):
    """The route server's and members' BGP tables, as birdc lists them."""

    def __init__(self, tables: dict[str, list[str]]):
        self.tables = tables

    def run(self, node, argv, check=True, timeout=30.0):
        family = "4" if "master4" in argv[-1] else "6"
        out = "".join(f"{p}  unicast [x] * (100)\n" for p in self.tables.get(node, [])
                      if (":" in p) == (family == "6"))
        return subprocess.CompletedProcess(list(argv), 0, out, "")


def test_members_missing_names_what_the_route_server_has_not_passed_on(tmp_path):
    rs = ["192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", PLAN.microsoft_prefixes[0]]
    host = TablesHost({"rs": rs, "fabrikam": ["198.51.100.0/24"],
                       "tailspin": ["203.0.113.0/24", "192.0.2.0/24", "198.51.100.0/24",
                                    PLAN.microsoft_prefixes[0]]})
    missing = observe.members_missing(PLAN, lambda n: tmp_path / n, host)
    assert missing == {"fabrikam": {"192.0.2.0/24", "203.0.113.0/24", PLAN.microsoft_prefixes[0]},
                       "tailspin": set()}


def test_openbgpd_says_what_it_sends_and_gobgp_does_not():
    from emulator.nodes import gobgp, openbgpd
    view = openbgpd.parse_neighbors(
        "sea-pr1", (NODES / "openbgpd" / "steady" / "bgpctl-show-neighbor.json").read_text())
    microsoft6 = view.neighbor("2001:db8:ffff::1")
    assert (microsoft6.received, microsoft6.exported) == (4, 3)
    view = gobgp.parse_neighbors(
        "sea-pr1", (NODES / "gobgp" / "steady" / "gobgp-neighbor.json").read_text())
    assert view.neighbor("198.18.0.1").received == 12
    assert view.neighbor("198.18.0.1").exported is None       # `gobgp -j neighbor` does not say
