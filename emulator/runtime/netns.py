"""The embedded runtime: one Linux network namespace per node, veth pairs for links.

Veth pairs are created straight into the two namespaces, never in the host's, so that a lab is
never connected to the host's network and removing the namespaces removes every link.
"""
from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from emulator.core import wait
from emulator.core.errors import CommandFailed

if TYPE_CHECKING:        # pyroute2 takes a tenth of a second to import: `down` does without
    from pyroute2 import IPRoute

NETNS_DIR = Path("/run/netns")


def namespace(lab: str, node: str) -> str:
    return f"ml-{lab}-{node}"


def lab_namespaces(lab: str) -> list[str]:
    """Every namespace on this host that belongs to the lab, whatever state recorded."""
    if not NETNS_DIR.is_dir():
        return []
    return sorted(p.name for p in NETNS_DIR.iterdir() if p.name.startswith(f"ml-{lab}-"))


def namespace_pids(ns: str) -> list[int]:
    """Processes whose network namespace is ns (as `ip netns pids` finds them)."""
    return pids_in([ns])[ns]


def pids_in(namespaces: Sequence[str]) -> dict[str, list[int]]:
    """Processes per network namespace, from one walk of /proc."""
    found: dict[str, list[int]] = {ns: [] for ns in namespaces}
    wanted = {}
    for ns in namespaces:
        try:
            st = os.stat(NETNS_DIR / ns)
        except OSError:
            continue
        wanted[(st.st_ino, st.st_dev)] = ns
    if not wanted:
        return found
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            st = os.stat(f"/proc/{entry.name}/ns/net")
        except OSError:
            continue
        ns = wanted.get((st.st_ino, st.st_dev))
        if ns is not None:
            found[ns].append(int(entry.name))
    return found


def prefetch_netlink() -> threading.Thread:
    """Import the netlink library in the background while namespaces and links are made (their
    commands leave the interpreter idle); the LAG drivers and observers need it later."""
    thread = threading.Thread(target=lambda: __import__("pyroute2"), daemon=True,
                              name="import-pyroute2")
    thread.start()
    return thread


class NetnsRuntime:
    def __init__(self, lab: str):
        self.lab = lab
        self._ipr: dict[str, IPRoute] = {}

    def ns(self, node: str) -> str:
        return namespace(self.lab, node)

    def iproute(self, node: str) -> IPRoute:
        """The node's netlink socket (pyroute2), opened once."""
        return self._ip(node)

    def _ip(self, node: str) -> IPRoute:
        if node not in self._ipr:
            from pyroute2 import IPRoute
            self._ipr[node] = IPRoute(netns=self.ns(node))
        return self._ipr[node]

    def create_node(self, node: str, sysctls: Mapping[str, str]) -> None:
        """The namespace, its loopback up and its sysctls set: one short shell, no netlink
        library (importing one costs a tenth of a second; see `prefetch_netlink`)."""
        script = 'ip netns add "$0" && ip -n "$0" link set lo up'
        if sysctls:
            script += ' && ip netns exec "$0" sysctl -q -w "$@"'
        self._ip_command(["sh", "-c", script, self.ns(node),
                          *[f"{k}={v}" for k, v in sysctls.items()]])

    def create_veth(self, a_node: str, a_ifname: str, b_node: str, b_ifname: str) -> None:
        # Both ends are created in their namespaces, never in the host's.
        self._ip_command(["ip", "-n", self.ns(a_node), "link", "add", a_ifname, "type", "veth",
                          "peer", "name", b_ifname, "netns", self.ns(b_node)])

    def configure(self, node: str, ifname: str, addresses: Sequence[str] = (),
                  arp: bool = True) -> None:
        """Up, with these addresses (kept if already there), and without ARP when asked."""
        lines = []
        if not arp:
            # IFF_NOARP: the member must not answer ARP for the bundle's address with its own MAC.
            lines.append(f"link set dev {ifname} arp off")
        lines.append(f"link set dev {ifname} up")
        lines += [f"addr replace {address} dev {ifname}" for address in addresses]
        self._ip_command(["ip", "-n", self.ns(node), "-batch", "-"], "\n".join(lines) + "\n")

    @staticmethod
    def _ip_command(argv: list[str], batch: str | None = None) -> None:
        """Run an ip(8) command (or a short shell of them) on the host; CommandFailed if it
        fails. `batch` is fed to `ip -batch -`."""
        result = subprocess.run(argv, input=batch, capture_output=True, text=True, timeout=30,
                                stdin=None if batch is not None else subprocess.DEVNULL)
        if result.returncode != 0:
            raise CommandFailed(argv, result.returncode, result.stderr or result.stdout)

    def link_state(self, node: str, ifname: str) -> dict[str, object]:
        ipr = self._ip(node)
        found = ipr.get_links(ifname=ifname)
        if not found:
            return {"exists": False}
        link = found[0]
        return {"exists": True, "operstate": link.get("operstate"),
                "carrier": link.get("carrier")}

    def run(self, node: str, argv: Sequence[str], check: bool = True,
            timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
        full = ["ip", "netns", "exec", self.ns(node), *argv]
        result = subprocess.run(full, capture_output=True, text=True, timeout=timeout,
                                stdin=subprocess.DEVNULL)
        if check and result.returncode != 0:
            raise CommandFailed(list(full), result.returncode, result.stderr or result.stdout)
        return result

    def spawn(self, node: str, argv: Sequence[str], log: Path,
              env: Mapping[str, str] | None = None) -> int:
        # Detached (the shell exits at once), so the program outlives the controller and
        # `mapslab down` in another process can stop it.
        script = 'setsid "$@" </dev/null >>"$MAPSLAB_LOG" 2>&1 & echo $!'
        result = subprocess.run(["ip", "netns", "exec", self.ns(node), "sh", "-c", script, "sh",
                                 *argv], capture_output=True, text=True, timeout=10,
                                stdin=subprocess.DEVNULL,
                                env={**os.environ, **(env or {}), "MAPSLAB_LOG": str(log)})
        if result.returncode != 0 or not result.stdout.strip().isdigit():
            raise CommandFailed(list(argv), result.returncode, result.stderr)
        return int(result.stdout.strip())

    def close(self) -> None:
        for ipr in self._ipr.values():
            ipr.close()
        self._ipr.clear()

    def destroy(self, nodes: Sequence[str]) -> None:
        self.close()
        destroy_namespaces([self.ns(n) for n in nodes])


def destroy_namespaces(namespaces: Sequence[str]) -> None:
    """SIGKILL every process in the namespaces, wait for them to go, then remove the namespaces."""
    for sig_round in range(2):
        pids = [pid for found in pids_in(namespaces).values() for pid in found]
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if not pids:
            break
        try:
            wait.until("process_exit", lambda: [p for p in pids if _alive(p)],
                       lambda alive: f"still running: {alive}" if alive else "")
        except Exception:
            if sig_round:
                raise
    for ns in namespaces:
        _remove(NETNS_DIR / ns)


MNT_DETACH = 2
_libc = ctypes.CDLL(None, use_errno=True)


def _remove(path: Path) -> None:
    """Unmount a namespace's bind mount (lazily, as `ip netns delete` does) and unlink it; a
    half-created one may be a bare file."""
    if not path.exists():
        return
    if _libc.umount2(str(path).encode(), MNT_DETACH) != 0 and path.is_mount():
        subprocess.run(["umount", "-l", str(path)], capture_output=True)
    try:
        path.unlink()
    except OSError:
        pass


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return False
