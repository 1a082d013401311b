"""LAGs through Open vSwitch's userspace datapath, for kernels without bonding.

One ovsdb-server and ovs-vswitchd per router namespace, each with its own database, run
directory and control sockets: a shared database would share the LACP system id and OVS would
report a loopback (IEEE 802.1AX-2014 6.4.14 selection needs distinct system ids).
"""
from __future__ import annotations

import re
import shutil
import threading
import time
from pathlib import Path

from emulator.core import wait
from emulator.core.errors import CommandFailed
from emulator.runtime.lag import unixctl
from emulator.runtime.lag.state import LagState, MemberState
from emulator.plan.model import Lag, Node
from emulator.runtime.base import Runtime

SCHEMA = Path("/usr/share/openvswitch/vswitch.ovsschema")


def bond_port(lag: Lag) -> str:
    return f"{lag.ifname}b"


def isolated_bridge(lag: Lag) -> str:
    """Where a mismatched member waits, outside the LAG's bridge (no address, no traffic)."""
    return f"{lag.ifname}x"


def partner_system(lacp_show: str, member: str) -> str:
    """The partner System ID `lacp/show` reports on one member, or ''."""
    block = _lacp_blocks(lacp_show).get(member, "")
    found = re.search(r"partner sys_id: (\S+)", block)
    return found.group(1) if found else ""


class OvsLagDriver:
    name = "openvswitch"

    def __init__(self, runtime: Runtime, node_dir: "callable[[str], Path]"):
        self.runtime = runtime
        self.node_dir = node_dir
        self._empty_db: Path | None = None
        self._empty_lock = threading.Lock()

    def _dir(self, node: str) -> Path:
        path = self.node_dir(node) / "ovs"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def _env(self, node: str) -> dict[str, str]:
        d = str(self._dir(node))
        return {"OVS_RUNDIR": d, "OVS_DBDIR": d, "OVS_LOGDIR": d, "OVS_SYSCONFDIR": d}

    def _vsctl(self, node: str, *args: str) -> list[str]:
        return ["ovs-vsctl", f"--db=unix:{self._dir(node)}/db.sock", "--timeout=10", *args]

    def mismatch_member(self, node: str, lag: Lag, member: str) -> str:
        """Move one member out of the node's bond into a bridge and LACP port of its own whose
        LACPDUs carry the partner's own System ID; return that System ID.

        Open vSwitch has one actor key per bond, so a per-member key changes every member and
        excludes none. A member whose partner reports the receiver's own System ID is never
        selected (IEEE 802.1AX-2014 6.4.14.1 e: a looped-back port does not aggregate), on
        either end, whatever the priorities: the other members keep the aggregator.
        """
        if not self._in_bond(node, lag, member):
            return ""                     # already moved out: injecting twice changes nothing
        partner = partner_system(self._appctl(node, "lacp/show", bond_port(lag)), member)
        if partner in ("", "00:00:00:00:00:00"):
            raise CommandFailed(["ovs-appctl", "lacp/show", bond_port(lag)], 0,
                                f"{node}: no LACP partner known on {member}")
        bridge = isolated_bridge(lag)
        self.runtime.run(node, self._vsctl(
            node, "--", "--id=@old", "get", "interface", member,
            "--", "remove", "port", bond_port(lag), "interfaces", "@old",
            "--", "add-br", bridge, "--", "set", "bridge", bridge, "datapath_type=netdev",
            "--", "add-port", bridge, member,
            "--", "set", "port", member, "lacp=active", f"other_config:lacp-time={lag.lacp_rate}",
            f"other_config:lacp-system-id={partner}", "other_config:lacp-fallback-ab=false"))
        return partner

    def restore_member(self, node: str, lag: Lag, member: str) -> None:
        """Undo `mismatch_member`: the member back in its bond (idempotent)."""
        if self._in_bond(node, lag, member):
            return
        self.runtime.run(node, self._vsctl(
            node, "--", "--if-exists", "del-br", isolated_bridge(lag),
            "--", "--id=@new", "create", "interface", f"name={member}",
            "--", "add", "port", bond_port(lag), "interfaces", "@new"))

    def _in_bond(self, node: str, lag: Lag, member: str) -> bool:
        found = self.runtime.run(node, self._vsctl(node, "list-ifaces", lag.ifname))
        return member in found.stdout.split()

    def _appctl(self, node: str, command: str, *args: str) -> str:
        """One unixctl command's output; CommandFailed when the daemon does not answer."""
        return unixctl.call(f"{self._dir(node)}/vswitchd.ctl", command, *args)

    def prepare(self, node: Node, lags: list[Lag]) -> None:
        """Create the database with every bridge and bond of the node (no daemon yet)."""
        d = self._dir(node.name)
        # Members up (without ARP) before either end's LACP starts: a veth has carrier only once
        # both ends are up, and a LACPDU sent without carrier is lost until the next periodic
        # one (IEEE 802.1AX-2014 6.4.7: Fast_Periodic_Time, 1 s).
        for lag in lags:
            for ifname in lag.member_ifnames(node.name):
                self.runtime.configure(node.name, ifname, arp=False)
        self._create_db(node.name, d / "conf.db")
        self.runtime.run(node.name, ["ovsdb-server", f"{d}/conf.db", f"--remote=punix:{d}/db.sock",
                                     f"--pidfile={d}/ovsdb.pid", f"--unixctl={d}/ovsdb.ctl",
                                     f"--log-file={d}/ovsdb.log", "--detach"])
        args = ["--no-wait", "init"]
        lacp = node.lacp if node.lacp in ("active", "passive") else "off"
        for lag in lags:
            members = list(lag.member_ifnames(node.name))
            args += ["--", "add-br", lag.ifname, "--", "set", "bridge", lag.ifname,
                     "datapath_type=netdev",
                     "--", "add-bond", lag.ifname, bond_port(lag), *members, f"lacp={lacp}",
                     # Without LACP, two bonds facing each other must agree on the member:
                     # active-backup with the same primary on both ends (balance-slb may pick
                     # different members for broadcasts and drop each other's ARP).
                     *(["bond_mode=balance-tcp"] if lacp != "off" else
                       ["bond_mode=active-backup", f"other_config:bond-primary={members[0]}"]),
                     f"other_config:lacp-time={lag.lacp_rate}",
                     # A partner without LACP must show as a failure, not as active-backup.
                     "other_config:lacp-fallback-ab=false"]
        self.runtime.run(node.name, self._vsctl(node.name, *args))

    def _create_db(self, node: str, db: Path) -> None:
        """An empty database of the schema: `ovsdb-tool create` (it parses the whole schema,
        a tenth of a second) for the first router, a copy of that file for the others."""
        db.unlink(missing_ok=True)
        with self._empty_lock:
            if self._empty_db is None or not self._empty_db.exists():
                self.runtime.run(node, ["ovsdb-tool", "create", str(db), str(SCHEMA)])
                if db.exists():
                    self._empty_db = db.with_name("empty.db")
                    shutil.copyfile(db, self._empty_db)
                return
        shutil.copyfile(self._empty_db, db)

    def start(self, node: Node, lags: list[Lag]) -> None:
        """Start ovs-vswitchd; it creates the bridges, then members and addresses are set."""
        d = self._dir(node.name)
        self.runtime.run(node.name, ["env", *[f"{k}={v}" for k, v in self._env(node.name).items()],
                                     "ovs-vswitchd", f"unix:{d}/db.sock", f"--pidfile={d}/vswitchd.pid",
                                     f"--unixctl={d}/vswitchd.ctl", f"--log-file={d}/vswitchd.log",
                                     "--detach"])
        for lag in lags:
            v4, v6 = lag.addresses(node.name)
            wait.until("daemon_socket",
                       lambda: self.runtime.run(node.name, ["ip", "link", "show", lag.ifname],
                                                check=False).returncode,
                       lambda rc: "" if rc == 0 else f"{lag.ifname} not created by ovs-vswitchd yet")
            self.runtime.configure(node.name, lag.ifname, [v4, v6])

    def programs(self, node: str) -> list[tuple[str, Path]]:
        """The node's own ovsdb-server and ovs-vswitchd (their --pidfile)."""
        d = self.node_dir(node) / "ovs"
        return [("ovsdb-server", d / "ovsdb.pid"), ("ovs-vswitchd", d / "vswitchd.pid")]

    def restart(self, node: Node, lags: list[Lag]) -> None:
        """A new database and both daemons, as `up` made them (a killed ovs-vswitchd loses
        its bonds' LACP state: the partner sees its LACPDUs stop, IEEE 802.1AX-2014 6.4.4)."""
        self.prepare(node, lags)
        self.start(node, lags)

    def observe(self, node: str, lag: Lag) -> LagState:
        return self.observe_node(node, [lag])[0]

    def observe_node(self, node: str, lags: list[Lag]) -> list[LagState]:
        """Every LAG of one router from one `bond/show` and one `lacp/show`."""
        ctl = f"{self._dir(node)}/vswitchd.ctl"
        args = [bond_port(lags[0])] if len(lags) == 1 else []
        bond, lacp = _appctl(ctl, "bond/show", args), _appctl(ctl, "lacp/show", args)
        now = time.time()
        bonds, lacps = _per_bond(bond), _per_bond(lacp)
        states = []
        for lag in lags:
            members = list(lag.member_ifnames(node))
            states.append(parse_state(node, lag.ifname, members, bonds.get(bond_port(lag), ""),
                                      lacps.get(bond_port(lag), ""), now))
        return states


def _appctl(ctl: str, command: str, args: list[str]) -> str:
    """One unixctl command's output; "" while ovs-vswitchd is not (or no longer) there, which
    parse_state reads as a LAG with no member up."""
    try:
        return unixctl.call(ctl, command, *args)
    except CommandFailed:
        return ""


def _per_bond(text: str) -> dict[str, str]:
    """Split appctl output into its `---- name ----` sections."""
    sections: dict[str, str] = {}
    current = None
    for line in text.splitlines():
        match = re.match(r"^---- (\S+) ----$", line)
        if match:
            current = match.group(1)
            sections[current] = ""
        elif current:
            sections[current] += line + "\n"
    return sections


_MEMBER = re.compile(r"^member (\S+): (enabled|disabled)", re.M)


def _lacp_blocks(text: str) -> dict[str, str]:
    blocks: dict[str, str] = {}
    current = None
    for line in text.splitlines():
        match = re.match(r"^(?:member|slave): (\S+):", line)
        if match:
            current = match.group(1)
            blocks[current] = line + "\n"
        elif current:
            blocks[current] += line + "\n"
    return blocks


def parse_state(node: str, ifname: str, members: list[str], bond_show: str, lacp_show: str,
                observed_at: float) -> LagState:
    """Turn `ovs-appctl bond/show` and `lacp/show` output into a LagState.

    A bundle left with one interface (lacp-mismatch moves a member out) is no bond to Open
    vSwitch: no `bond/show` section, and LACP's own `may_enable` says whether it forwards."""
    enabled = {m.group(1): m.group(2) == "enabled" for m in _MEMBER.finditer(bond_show)}
    blocks = _lacp_blocks(lacp_show)
    if not bond_show.strip():
        enabled = {name: "may_enable: true" in block for name, block in blocks.items()}
    states = []
    for member in members:
        block = blocks.get(member, "")
        actor = re.search(r"actor state:([^\n]*)", block)
        partner = re.search(r"partner state:([^\n]*)", block)
        actor_bits = actor.group(1).split() if actor else []
        partner_bits = partner.group(1).split() if partner else []
        first = block.splitlines()[0] if block else "no LACP state"
        states.append(MemberState(member, enabled.get(member, False), "collecting" in actor_bits,
                                  "distributing" in actor_bits, "synchronized" in partner_bits,
                                  first.split(":", 2)[-1].strip()))
    return LagState(node, ifname, tuple(states), observed_at)
