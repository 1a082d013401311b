"""The munet baseline: the same lab plan brought up by munet (PyPI `munet`), side by side.

Same nodes, same veth links (every LAG member and every exchange-LAN port), same daemons with
the same configurations (rendered by emulator.daemons): Open vSwitch LAGs on the routers, FRR on
the peer routers, BIRD on the route server and members, ExaBGP with the edge agent per
interconnect link. What munet does not do is ours alone: no LACP gate before BGP (every daemon
of a node starts at once from its `cmd`), no checks, no timeline.

munet 0.17.3 runs here only as PID 1 of its own PID namespace (RECIPES.md), so `measure` starts
this file again under `unshare --pid --fork --mount-proc --kill-child`; that inner run builds the
topology with munet's Python API, waits with the lab's own observers until every BGP session is
Established and every prefix has arrived, deletes the topology and prints its timestamps as JSON.
When the inner process ends, the kernel ends everything in its PID namespace with it.

    python bench/munet_baseline.py TOPOLOGY.yaml      # one run, figures as JSON
"""
from __future__ import annotations

import argparse
import asyncio
import json
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from emulator.observe import observers as observe  # noqa: E402
from emulator.core import wait
from emulator.nodes import bird, exabgp, frr  # noqa: E402
from emulator.lab.automation import wait_prefixes  # noqa: E402
from emulator.runtime.base import node_sysctls  # noqa: E402
from emulator.runtime.lag.ovs import SCHEMA, bond_port  # noqa: E402
from emulator.topology.loader import load  # noqa: E402
from emulator.plan.model import Node, Plan, Role  # noqa: E402
from emulator.plan.resolve import resolve  # noqa: E402

MUNET_VERSION = "0.17.3"
# The whole inner run (build, start, sessions, prefixes, delete) is bounded.
INNER_BUDGET = 300.0


@dataclass(frozen=True)
class MunetRun:
    """Seconds from launching munet's process to each milestone."""

    built: float            # namespaces and veths created by munet
    established: float      # every BGP session Established (same observers as the lab)
    prefixes: float         # Microsoft prefixes at every peer router, exchange ones at every edge
    deleted: float          # munet's own teardown finished
    total: float            # the launching process returned (PID namespace gone)


def ensure_munet(python: str = sys.executable) -> str:
    """Install munet into this virtualenv if it is not there; return its version."""
    from importlib import metadata
    try:
        return metadata.version("munet")
    except metadata.PackageNotFoundError:
        subprocess.run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check",
                        f"munet=={MUNET_VERSION}"], check=True)
        return MUNET_VERSION


def _q(argv: list[str]) -> str:
    return " ".join(shlex.quote(a) for a in argv)


def _wait_for(test: str, what: str, seconds: float = 10.0) -> list[str]:
    """A bounded shell poll (the node script's equivalent of wait.until)."""
    tries = int(seconds / 0.01)
    return [f"n=0; until {test}; do n=$((n+1)); [ $n -lt {tries} ] || "
            f"{{ echo {shlex.quote('timeout: ' + what)} >&2; exit 1; }}; sleep 0.01; done"]


def _ovs_lines(plan: Plan, node: Node, d: Path) -> list[str]:
    """Mirror of emulator.runtime.lag.ovs.OvsLagDriver.prepare + start, as shell lines."""
    o = d / "ovs"
    lags = plan.lags_of(node.name)
    args = ["--no-wait", "init"]
    members_all = []
    for lag in lags:
        members = [m.a_ifname if node.name == lag.a_node else m.b_ifname for m in lag.members]
        members_all += members
        args += ["--", "add-br", lag.ifname, "--", "set", "bridge", lag.ifname,
                 "datapath_type=netdev", "--", "add-bond", lag.ifname, bond_port(lag), *members,
                 f"lacp={node.lacp}", "bond_mode=balance-tcp",
                 f"other_config:lacp-time={lag.lacp_rate}", "other_config:lacp-fallback-ab=false"]
    env = [f"OVS_{k}={o}" for k in ("RUNDIR", "DBDIR", "LOGDIR", "SYSCONFDIR")]
    lines = [f"mkdir -p {o}",
             _q(["ovsdb-tool", "create", f"{o}/conf.db", str(SCHEMA)]),
             _q(["ovsdb-server", f"{o}/conf.db", f"--remote=punix:{o}/db.sock",
                 f"--pidfile={o}/ovsdb.pid", f"--unixctl={o}/ovsdb.ctl",
                 f"--log-file={o}/ovsdb.log", "--detach"]),
             _q(["ovs-vsctl", f"--db=unix:{o}/db.sock", "--timeout=10", *args]),
             _q(["env", *env, "ovs-vswitchd", f"unix:{o}/db.sock", f"--pidfile={o}/vswitchd.pid",
                 f"--unixctl={o}/vswitchd.ctl", f"--log-file={o}/vswitchd.log", "--detach"])]
    # Members up with ARP off (RECIPES: otherwise balance-tcp black-holes half the flows).
    lines += [f"ip link set {m} arp off up" for m in members_all]
    for lag in lags:
        v4, v6 = ((lag.a_ipv4, lag.a_ipv6) if node.name == lag.a_node
                  else (lag.b_ipv4, lag.b_ipv6))
        lines += _wait_for(f"ip link show {lag.ifname} >/dev/null 2>&1",
                           f"{lag.ifname} from ovs-vswitchd")
        lines += [f"ip addr add {v4} dev {lag.ifname}", f"ip addr add {v6} dev {lag.ifname}",
                  f"ip link set {lag.ifname} up"]
    return lines


def _exabgp_internet(plan: Plan, node: Node, d: Path, exa: str) -> str:
    """Mirror of emulator.nodes.exabgp.start_internet: the edge's sessions to the internet."""
    d.mkdir(parents=True, exist_ok=True)
    (d / "exabgp.conf").write_text(exabgp.render_internet(plan, node))
    addresses = [s.a_address for s in plan.sessions_of(node.name)
                 if s.lag is None and s.a_node == node.name]
    env = {"exabgp_daemon_user": "root", "exabgp_daemon_drop": "false",
           "exabgp_api_cli": "false", "exabgp_tcp_bind": " ".join(addresses),
           "exabgp_log_destination": str(d / "exabgp.log"), "PYTHONPATH": str(ROOT)}
    return (_q(["env", *[f"{k}={v}" for k, v in env.items()], "setsid", exa, "server",
                str(d / "exabgp.conf")]) + f" </dev/null >>{d}/exabgp.out 2>&1 &")


def node_script(plan: Plan, node: Node, d: Path) -> str:
    """The munet `cmd` of one node: the same set-up and daemons as `mapslab up` gives it."""
    d.mkdir(parents=True, exist_ok=True)
    # munet creates the veths before `cmd` runs, so the accept_dad sysctls come too late for
    # them: IPv6 addresses on those are added with `nodad`, as the lab's are in effect.
    lines = ["set -e",
             _q(["sysctl", "-q", "-w", *[f"{k}={v}" for k, v in node_sysctls(node).items()]]),
             "ip link set lo up"]
    lines += [f"ip addr add {e} dev lo" for e in node.endpoints]
    if node.role is Role.SWITCH:
        lines.append("ip link add br0 type bridge")
        lines += [f"ip link set {p.switch_ifname} master br0 up" for p in plan.lan_ports]
        lines.append("ip link set br0 up")
    for link in plan.links_of(node.name):
        ifname, v4, v6 = ((link.a_ifname, link.a_ipv4, link.a_ipv6) if node.name == link.a_node
                          else (link.b_ifname, link.b_ipv4, link.b_ipv6))
        lines += [f"ip link set {ifname} up", f"ip addr add {v4} dev {ifname}",
                  f"ip addr add {v6} dev {ifname} nodad"]
    port = plan.lan_port(node.name)
    if port:
        lines += [f"ip link set {port.ifname} up", f"ip addr add {port.ipv4} dev {port.ifname}",
                  f"ip addr add {port.ipv6} dev {port.ifname} nodad"]
    if plan.lags_of(node.name):
        lines += _ovs_lines(plan, node, d)
    if node.role is Role.PEER_ROUTER:
        (d / "bgpd.conf").write_text(frr.render_bgpd(plan, node, str(d / "bgpd.log")))
        (d / "zebra.conf").write_text(f"hostname {node.name}\n")
        common = ["-A", "127.0.0.1", "-P", "0", "--vty_socket", str(d), "-z", str(d / "zserv.api")]
        # FRR keeps per-process crash-log buffers in /var/tmp/frr/<daemon>.<pid>; pids repeat
        # across munet's per-node PID namespaces, so each node gets its own (private mount).
        lines += [f"mkdir -p {d}/frr-tmp", f"mount --bind {d}/frr-tmp /var/tmp/frr",
                  f"chown frr:frr {d} {d}/frr-tmp {d}/bgpd.conf {d}/zebra.conf",
                  _q(["/usr/lib/frr/zebra", "-d", *common, "-f", str(d / "zebra.conf"),
                      "-i", str(d / "zebra.pid"), "--log", f"file:{d}/zebra.log"])]
        lines += _wait_for(f"[ -S {d}/zserv.api ]", "zebra's zserv socket")
        lines.append(_q(["/usr/lib/frr/bgpd", "-d", *common, "-f", str(d / "bgpd.conf"),
                         "-i", str(d / "bgpd.pid"), "--log", f"file:{d}/bgpd.log"]))
    elif node.role in (Role.ROUTE_SERVER, Role.MEMBER, Role.INTERNET):
        (d / "bird.conf").write_text(bird.render(plan, node))
        lines.append(_q(["bird", "-c", str(d / "bird.conf"), "-s", str(d / "bird.ctl"),
                         "-P", str(d / "bird.pid")]))
    elif node.role is Role.EDGE:
        exa = str(Path(sys.executable).with_name("exabgp"))
        if plan.links_of(node.name):
            lines.append(_exabgp_internet(plan, node, d / "internet", exa))
        for lag in plan.lags_of(node.name):
            ld = d / lag.ifname
            ld.mkdir(parents=True, exist_ok=True)
            config = exabgp.agent_config(plan, node, lag, str(ld), str(d / "events.jsonl"))
            (ld / "agent.json").write_text(json.dumps(config.__dict__))
            (ld / "exabgp.conf").write_text(exabgp.render(plan, node, lag, ld / "agent.json"))
            env = {"exabgp_daemon_user": "root", "exabgp_daemon_drop": "false",
                   "exabgp_api_cli": "false",
                   "exabgp_tcp_bind": " ".join(exabgp.local_addresses(plan, lag)),
                   "exabgp_log_destination": str(ld / "exabgp.log"), "PYTHONPATH": str(ROOT)}
            lines.append(_q(["env", *[f"{k}={v}" for k, v in env.items()], "setsid", exa,
                             "server", str(ld / "exabgp.conf")])
                         + f" </dev/null >>{ld}/exabgp.out 2>&1 &")
    return "\n".join(lines) + "\n"


def munet_config(plan: Plan, root: Path) -> dict:
    """munet's topology: one namespace node per plan node, one veth per LAG member and LAN port."""
    connections: dict[str, list[dict[str, str]]] = {n.name: [] for n in plan.nodes}

    def link(a: str, a_if: str, b: str, b_if: str) -> None:
        connections[a].append({"to": b, "name": a_if, "remote-name": b_if})
        connections[b].append({"to": a, "name": b_if, "remote-name": a_if})

    for lag in plan.lags:
        for m in lag.members:
            link(lag.a_node, m.a_ifname, lag.b_node, m.b_ifname)
    for port in plan.lan_ports:
        link(port.node, port.ifname, plan.lan_switch, port.switch_ifname)
    for routed in plan.links:
        link(routed.a_node, routed.a_ifname, routed.b_node, routed.b_ifname)
    nodes = [{"name": n.name, "cmd": node_script(plan, n, root / "nodes" / n.name),
              "connections": connections[n.name]} for n in plan.nodes]
    return {"version": 1, "topology": {"ipv6-enable": True, "nodes": nodes}}


class _Lab:
    """Just enough of emulator.lab.Lab for the lab's own observers and waits."""

    def __init__(self, plan: Plan, root: Path):
        self.plan = plan
        self.root = root

    def node_dir(self, node: str) -> Path:
        return self.root / "nodes" / node


async def _inner(config_path: Path, topology: Path, root: Path) -> dict[str, float]:
    from munet import parser
    marks = {"start": time.time()}
    plan = resolve(load(topology))
    lab = _Lab(plan, root)
    config = parser.get_config(str(config_path))
    unet = await parser.async_build_topology(config, rundir=str(root / "munet"))
    marks["built"] = time.time()
    try:
        tasks = await unet.run()
        sessions = await asyncio.to_thread(
            wait.until, "ebgp_session", lambda: observe.all_sessions(plan, lab.node_dir),
            lambda states: "\n".join(f"{s.node} {s.session}: {s.state}"
                                     for s in states if not s.established))
        marks["established"] = time.time()
        marks["sessions"] = len(sessions)
        await asyncio.to_thread(wait_prefixes, lab)
        marks["prefixes"] = time.time()
        for task in tasks:
            task.cancel()
    finally:
        await unet.async_delete()
    marks["deleted"] = time.time()
    return marks


def measure(topology: Path, workdir: Path | None = None) -> MunetRun:
    """One munet bring-up of the topology's plan, as PID 1 of a fresh PID namespace."""
    plan = resolve(load(topology))
    root = Path(tempfile.mkdtemp(prefix="munet-", dir=workdir))
    root.chmod(0o755)         # FRR runs as user frr and must reach its node directory
    try:
        (root / "munet.json").write_text(json.dumps(munet_config(plan, root), indent=1))
        argv = ["unshare", "--pid", "--fork", "--mount-proc", "--kill-child", sys.executable,
                str(Path(__file__).resolve()), "--inner", str(root), str(topology)]
        launched = time.time()
        result = subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                                timeout=INNER_BUDGET + 30)
        ended = time.time()
        if result.returncode != 0:
            raise RuntimeError(f"munet run failed ({result.returncode}):\n{result.stderr[-3000:]}")
        marks = json.loads(result.stdout.strip().splitlines()[-1])
        return MunetRun(marks["built"] - launched, marks["established"] - launched,
                        marks["prefixes"] - launched, marks["deleted"] - launched,
                        ended - launched)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    top = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    top.add_argument("topology", nargs="?")
    top.add_argument("--inner", nargs=2, metavar=("ROOT", "TOPOLOGY"), help=argparse.SUPPRESS)
    args = top.parse_args(argv)
    if args.inner:
        # Under nohup SIGHUP arrives ignored, and every process munet starts would inherit
        # that; munet stops nodes with SIGHUP and waits 60 s for them otherwise.
        signal.signal(signal.SIGHUP, signal.SIG_DFL)
        root, topology = Path(args.inner[0]), Path(args.inner[1])
        marks = asyncio.run(asyncio.wait_for(_inner(root / "munet.json", topology, root),
                                             INNER_BUDGET))
        print(json.dumps(marks))
        return 0
    if not args.topology:
        top.error("a topology file is needed")
    ensure_munet()
    print(json.dumps(measure(Path(args.topology)).__dict__))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
