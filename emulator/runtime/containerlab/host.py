"""A deployed containerlab lab driven from the host through Docker.

DockerHost is emulator.nodes.base.Host: a node kind's observe() and routes() run their commands
(vtysh, birdc, bgpctl, gobgp) in the node's container with `docker exec`, as they run them with
`ip netns exec` on the embedded runtime. ContainerlabRuntime adds the rest of the Runtime
Protocol for a lab that `containerlab deploy` made.
"""
from __future__ import annotations

import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from emulator.core.errors import CommandFailed, LabStateError
from emulator.runtime.containerlab.layout import container

Runner = Callable[..., "subprocess.CompletedProcess[str]"]


def run_local(argv: Sequence[str], timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


# Detached as the netns runtime's spawn: the program outlives `docker exec`, the container's
# init (tini) reaps it, and its pid is printed for the caller.
_SPAWN = 'setsid "$@" </dev/null >>"$MAPSLAB_LOG" 2>&1 & echo $!'


class DockerHost:
    """Runs argv in a node's container: `docker exec clab-<lab>-<node> argv...`."""

    def __init__(self, lab: str, run: Runner = run_local):
        self.lab = lab
        self._run = run

    def exec_argv(self, node: str, argv: Sequence[str],
                  env: Mapping[str, str] | None = None) -> list[str]:
        options = [word for k, v in (env or {}).items() for word in ("-e", f"{k}={v}")]
        return ["docker", "exec", *options, container(self.lab, node), *argv]

    def run(self, node: str, argv: Sequence[str], check: bool = True,
            timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
        full = self.exec_argv(node, argv)
        result = self._run(full, timeout=timeout)
        if check and result.returncode != 0:
            raise CommandFailed(full, result.returncode, result.stderr or result.stdout)
        return result

    def spawn(self, node: str, argv: Sequence[str], log: Path,
              env: Mapping[str, str] | None = None) -> int:
        """Start a long-running program in the container; log is a path in the container."""
        full = self.exec_argv(node, ["sh", "-c", _SPAWN, "sh", *argv],
                              {**(env or {}), "MAPSLAB_LOG": str(log)})
        result = self._run(full, timeout=30)
        if result.returncode != 0 or not result.stdout.strip().isdigit():
            raise CommandFailed(full, result.returncode, result.stderr or result.stdout)
        return int(result.stdout.strip())


class ContainerlabRuntime(DockerHost):
    """The Runtime Protocol on a deployed containerlab lab.

    containerlab creates every node of the rendered topology at deploy, so create_node only
    makes sure the node's container is there and sets its sysctls; links between running
    containers are containerlab's own veths (`containerlab tools veth create`).
    """

    def create_node(self, node: str, sysctls: Mapping[str, str]) -> None:
        name = container(self.lab, node)
        state = self._run(["docker", "inspect", "-f", "{{.State.Running}}", name], timeout=30)
        if state.returncode != 0 or state.stdout.strip() != "true":
            raise LabStateError(f"container {name} is not running: containerlab creates a lab's "
                                f"nodes at deploy (re-render and `containerlab deploy`)")
        if sysctls:
            self.run(node, ["sysctl", "-q", "-w", *[f"{k}={v}" for k, v in sysctls.items()]])

    def create_veth(self, a_node: str, a_ifname: str, b_node: str, b_ifname: str) -> None:
        argv = ["containerlab", "tools", "veth", "create",
                "-a", f"{container(self.lab, a_node)}:{a_ifname}",
                "-b", f"{container(self.lab, b_node)}:{b_ifname}"]
        result = self._run(argv, timeout=60)
        if result.returncode != 0:
            raise CommandFailed(argv, result.returncode, result.stderr)

    def configure(self, node: str, ifname: str, addresses: Sequence[str] = (),
                  arp: bool = True) -> None:
        if not arp:
            # The member must not answer ARP for the bundle's address with its own MAC.
            self.run(node, ["ip", "link", "set", ifname, "arp", "off"])
        self.run(node, ["ip", "link", "set", ifname, "up"])
        for address in addresses:
            result = self.run(node, ["ip", "address", "add", address, "dev", ifname]
                              + (["nodad"] if ":" in address else []), check=False)
            if result.returncode != 0 and "File exists" not in result.stderr:
                raise CommandFailed(["ip", "address", "add", address, "dev", ifname],
                                    result.returncode, result.stderr)

    def destroy(self, nodes: Sequence[str]) -> None:
        """Remove the nodes' containers (and with them their processes); idempotent."""
        if nodes:
            self._run(["docker", "rm", "-f", *[container(self.lab, n) for n in nodes]],
                      timeout=120)

    def close(self) -> None:
        """Nothing to release: every call is a `docker` command of its own."""
