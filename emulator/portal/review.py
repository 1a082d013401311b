"""The portal's Review + create: the page's rules that keep a peering from being deployed, in the
portal's words.

The rules are emulator.topology.validate's, implemented there once: this module picks the
findings of the rules the portal enforces (Basics, Configuration, Connections, and the fields
that "CANNOT be changed after the peering is created") and says each as the portal does.
"""
from __future__ import annotations

from emulator.core import page
from emulator.portal.store import PeeringResource
from emulator.topology import rules
from emulator.topology.intent import Topology
from emulator.topology.loader import Loc, yaml_path
from emulator.topology.validate import IMMUTABLE_FIELDS, validate, validate_change

# The portal's names of the peering's fixed fields (validate.IMMUTABLE_FIELDS).
FIXED_LABELS = {"subscription": "subscription", "resource-group": "resource group",
                "name": "name", "peer-asn": "peer ASN"}


def _attribute(key: str) -> str:
    """The model's name of a topology key: `peer-asn` → `peer_asn`."""
    return key.replace("-", "_")


def review(topo: Topology) -> list[str]:
    """The portal's Review + create validation: what keeps the peering from being deployed."""
    broken = {(f.rule, f.path) for f in validate(topo).findings}

    def breaks(rule: rules.Rule, *loc: str | int) -> bool:
        return (rule.id, yaml_path(loc)) in broken

    peering = topo.peering
    problems = [f"{label} is {got!r}; MAPS Exchange with Route Server requires {want!r}"
                for rule, key, label, got, want in (
                    (rules.PORTAL_KIND, "kind", "Peering type", peering.kind, page.KIND),
                    (rules.PORTAL_NETWORK, "microsoft-network", "Microsoft network",
                     peering.microsoft_network, page.MICROSOFT_NETWORK),
                    (rules.PORTAL_SKU, "sku", "SKU", peering.sku, page.SKU))
                if breaks(rule, "peering", key)]
    if breaks(rules.ASN_OWN, "peering", "peer-asn") or breaks(rules.ASN_PUBLIC, "peering",
                                                               "peer-asn"):
        problems.append(f"peer ASN AS{peering.peer_asn} is not a public ASN of the peer")
    if breaks(rules.PORTAL_CONNECTION, "connections"):
        problems.append("the peering has no connection: it needs at least one")
    for i, conn in enumerate(topo.connections):
        if breaks(rules.PORTAL_SESSION_ADDRESS, "connections", i, "session-address-provider"):
            problems.append(f"connection {conn.name}: Session Address Provider is "
                            f"{conn.session_address_provider!r}, must be "
                            f"{page.SESSION_ADDRESS_PROVIDER!r}")
        if breaks(rules.PORTAL_PEERING_SERVICE, "connections", i, "use-for-peering-service"):
            problems.append(f"connection {conn.name}: Use for Peering Service must be enabled")
    return problems


def changed_fixed_fields(deployed: PeeringResource, topo: Topology) -> list[str]:
    """What `topo` would change of the deployed peering's fixed fields, `label old -> new`."""
    fixed = {_attribute(key): getattr(deployed, _attribute(key)) for key in IMMUTABLE_FIELDS}
    before = topo.model_copy(update={"peering": topo.peering.model_copy(update=fixed)})
    broken = {f.path for f in validate_change(before, topo).findings
              if f.rule == rules.IMMUTABLE.id}
    changed: list[str] = []
    for key in IMMUTABLE_FIELDS:
        loc: Loc = ("peering", key)
        if yaml_path(loc) in broken:
            old, new = (getattr(p, _attribute(key)) for p in (before.peering, topo.peering))
            changed.append(f"{FIXED_LABELS[key]} {old!r} -> {new!r}")
    return changed
