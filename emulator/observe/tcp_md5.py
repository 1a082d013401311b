"""TCP MD5 signatures (RFC 2385) as a router's kernel counted them: why a session with a key, or
facing one, stays in Connect or Active.

A segment whose signature does not match what the socket expects is dropped by TCP before BGP
sees anything (RFC 2385 3.0), so the router programs only say that they cannot connect. The
kernel counts each such drop per network namespace, in /proc/net/netstat (TcpExt):

  TCPMD5NotFound    a key is set for the peer, the segment carried no signature
  TCPMD5Unexpected  no key is set for the peer, the segment carried a signature
  TCPMD5Failure     both have a key, the signature does not verify (the keys differ)

The counters are the namespace's since it was created, for every socket in it: they name the
cause, not the session.
"""
from __future__ import annotations

from dataclasses import dataclass

from emulator.nodes.base import Host, run_quietly

# The TcpExt counters, in the order they are reported, and what each says of a dropped segment.
MEANING = {
    "TCPMD5NotFound": "carried no MD5 signature where this router has a key for the peer",
    "TCPMD5Unexpected": "carried an MD5 signature where this router has no key for the peer",
    "TCPMD5Failure": "carried an MD5 signature that does not verify (the two keys differ)",
}


@dataclass(frozen=True)
class Md5Drops:
    node: str
    counts: dict[str, int]

    def lines(self) -> list[str]:
        """One line per counter that is not zero."""
        return [f"{self.node}: {count} TCP segment(s) dropped that {MEANING[name]} "
                f"(TcpExt{name}, RFC 2385)"
                for name, count in self.counts.items() if count]


def parse_netstat(text: str) -> dict[str, int]:
    """The TCP MD5 counters of /proc/net/netstat: each protocol has a line of names and then a
    line of values, both starting with "TcpExt:"."""
    rows = [line.split() for line in text.splitlines() if line.startswith("TcpExt:")]
    found: dict[str, int] = {}
    for names, values in zip(rows[::2], rows[1::2]):
        for name, value in zip(names[1:], values[1:]):
            if name in MEANING:
                try:
                    found[name] = int(value)
                except ValueError:
                    continue
    return {name: found.get(name, 0) for name in MEANING}


def drops(runtime: Host, node: str) -> Md5Drops:
    """The node's counters, read in its own network namespace through the lab's runtime (zero
    where unreadable)."""
    return Md5Drops(node, parse_netstat(run_quietly(runtime, node, ["cat", "/proc/net/netstat"])
                                        or ""))
