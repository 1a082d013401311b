"""`mapslab capture`: a pcap of one lab interface, bounded in packets and in time."""
from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from emulator.core import names
from emulator.core.errors import CommandFailed, RuntimeUnavailable
from emulator.runtime.netns import namespace

MAX_PACKETS = 100_000
MAX_SECONDS = 600


@dataclass(frozen=True)
class Capture:
    path: Path
    packets: int


def capture(lab: str, node: str, ifname: str, out: Path, count: int = 1000,
            seconds: float = 10.0, bpf: str = "") -> Capture:
    """Capture on IFACE inside NODE's namespace into `out` (tcpdump -w), then stop."""
    problem = names.ifname_problem(ifname) or names.node_name_problem(node)
    if problem:
        raise ValueError(problem)
    if shutil.which("tcpdump") is None:
        raise RuntimeUnavailable("tcpdump is not installed (Debian package tcpdump; make setup)")
    count = max(1, min(count, MAX_PACKETS))
    seconds = max(1.0, min(seconds, MAX_SECONDS))
    argv = ["timeout", "--signal=INT", f"{seconds:.0f}", "ip", "netns", "exec",
            namespace(lab, node), "tcpdump", "-i", ifname, "-U", "-n", "-c", str(count),
            "-w", str(out)] + ([bpf] if bpf else [])
    result = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 10)
    # timeout(1) exits 124 when it had to stop tcpdump: the time bound, not a failure.
    if result.returncode not in (0, 124):
        raise CommandFailed(argv, result.returncode, result.stderr)
    packets = next((int(line.split()[0]) for line in result.stderr.splitlines()
                    if line.endswith("packets captured")), 0)
    return Capture(out, packets)
