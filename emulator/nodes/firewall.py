"""What a peer router's topology flags `stateful-firewall` and `rate-limit` put in its namespace.

The page forbids both ("The Peer MUST NOT terminate peering on a device running a stateful
firewall"; "The Peer CANNOT apply rate limiting to their connection"); `mapslab validate` refuses
them, and a lab built anyway (`up --skip-validation`) gets them for real, as nftables rules in the
router's namespace, so that the `peer-devices` check sees what a real device would carry:

  stateful-firewall  connection tracking on input and forward (nft(8) CONNTRACK EXPRESSIONS:
                     `ct state established,related accept`)
  rate-limit         a policer on the interconnect interfaces, at the members' line rate
                     (nft(8) LIMIT STATEMENT: `limit rate over ... drop`)

Both accept what the lab sends, so the lab still converges: the finding is the rule, not a loss.
"""
from __future__ import annotations

from emulator.nodes.base import Host
from emulator.plan.model import Node, Plan

TABLE = "mapslab_peer"


def _chain(name: str, hook: str, body: list[str]) -> list[str]:
    return [f"  chain {name} {{", f"    type filter hook {hook} priority filter; policy accept;",
            *[f"    {rule}" for rule in body], "  }"]


def ruleset(plan: Plan, node: Node) -> str:
    """The nft script for the node's flags; '' when it has neither."""
    if not (node.stateful_firewall or node.rate_limit):
        return ""
    lags = plan.lags_of(node.name)
    incoming: dict[str, list[str]] = {"input": [], "forward": []}
    outgoing: list[str] = []
    if node.stateful_firewall:
        for chain in incoming.values():
            chain += ["ct state established,related accept", "ct state new accept"]
    if node.rate_limit:
        for lag in lags:
            # The LAG's line rate in bytes: the policer never bites the lab's own traffic.
            rate = sum(m.speed_gbps for m in lag.members) * 125
            incoming["forward"].append(f'iifname "{lag.ifname}" limit rate over {rate} '
                                       f'mbytes/second drop')
            outgoing.append(f'oifname "{lag.ifname}" limit rate over {rate} mbytes/second drop')
    lines = [f"table inet {TABLE} {{"]
    for name, body in incoming.items():
        if body:
            lines += _chain(name, name, body)
    if outgoing:
        lines += _chain("output", "output", outgoing)
    return "\n".join(lines + ["}", ""])


def apply(host: Host, plan: Plan, node: Node) -> None:
    """Load the node's rules into its namespace (nothing for a node without the flags)."""
    script = ruleset(plan, node)
    if script:
        # One nft command line: the ruleset as its arguments (nft reads them as one script).
        host.run(node.name, ["nft", script])
