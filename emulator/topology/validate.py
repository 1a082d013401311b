"""Intent → findings: every rule of the MAPS page, checked on a topology before a lab is built.

`validate` runs every check of emulator.topology.rules and collects all findings at once; each names the
rule, the YAML path and line, what was found and how to fix it. `validate_change` adds the rules
that compare a peering with its earlier self. `render_text` and `render_json` are what
`mapslab validate` prints.

The AS paths the checks reason about are modelled by `announced_path`.
"""
from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from emulator.core.page import (KIND, LONGEST_IPV4_WITHOUT_ACTIVATION, MAX_AS_PATH_FOR_LONG_PREFIX,
                                MAX_PREFIX_MINIMUM, MICROSOFT_ASN, MICROSOFT_NETWORK,
                                MIN_LINK_SPEED_GBPS, SESSION_ADDRESS_PROVIDER, SKU)
from emulator.core.errors import Problem
from emulator.topology import addresses as bogons
from emulator.topology import rules
from emulator.topology.addresses import Use
from emulator.topology.intent import Prefix, Topology
from emulator.topology.loader import Loc, line_at, yaml_path
from emulator.topology.rules import Rule, Severity
from emulator.topology.yamlread import clip, quote

MAX_FOUND = 400     # characters of what a finding says


@dataclass(frozen=True)
class Finding:
    """One rule broken (or one stand-in noted) at one place of the topology."""

    rule: str
    severity: Severity
    path: str
    line: int | None
    found: str
    fix: str
    file: str | None = None     # another file than the one validated (--against)

    @property
    def wording(self) -> str:
        """The page's words for a rule of the catalogue; "" for a problem of the file itself."""
        rule = _catalogued(self.rule)
        return rule.wording if rule else ""

    @property
    def title(self) -> str:
        rule = _catalogued(self.rule)
        return rule.title if rule else PROBLEM_TITLES.get(self.rule, self.rule)


def _catalogued(rule_id: str) -> Rule | None:
    try:
        return rules.by_id(rule_id)
    except KeyError:
        return None


# Problems of the file itself (emulator.core.errors.Problem): not rules of the page, but each
# with a stable id, a title and the general fix.
PROBLEM_TITLES = {
    "FILE": "The file can be read",
    "YAML": "The file is YAML within the reader's bounds",
    "FORMAT": "Every field is known and of its type",
    "REFERENCE": "Every name is declared once and is not the lab's own",
    "ADDRESS": "Interconnect subnets do not overlap",
    "NODE-SOFTWARE": "Each node's program exists for its role",
    "NODE-CONFIG": "Each node's own configuration passes its program's check",
    "PLAN": "Names and addresses fit a lab",
}
PROBLEM_FIXES = {
    "FILE": "give the path of a readable UTF-8 topology file",
    "YAML": "correct the YAML at that line",
    "FORMAT": "write the field as topologies/seattle.yaml does (a complete example)",
    "REFERENCE": "declare the name where it is used, or choose a name of your own",
    "ADDRESS": "give each link subnets of its own",
    "NODE-SOFTWARE": "choose a program the lab runs for that role",
    "NODE-CONFIG": "correct the configuration file where its program says",
    "PLAN": "change the names or addresses the message names",
}


def problem_findings(problems: Iterable[Problem], file: str | None = None) -> tuple[Finding, ...]:
    """The loader's and preflight's problems as findings (errors), so that one report holds all."""
    return tuple(Finding(p.rule, Severity.ERROR, p.path, p.line, clip(p.message, MAX_FOUND),
                         PROBLEM_FIXES.get(p.rule, ""), file) for p in problems)


@dataclass(frozen=True)
class Report:
    findings: tuple[Finding, ...]

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.WARNING)

    @property
    def ok(self) -> bool:
        return not self.errors

    def with_findings(self, more: Iterable[Finding]) -> Report:
        """This report and more findings, in the report's order (by line, then rule)."""
        return Report(_ordered([*self.findings, *more]))


@dataclass(frozen=True)
class _Hit:
    """A finding before it is placed: the rule, where (as a YAML path), what, and the fix."""

    rule: Rule
    loc: Loc
    found: str
    fix: str | None = None


@dataclass(frozen=True)
class Announcement:
    """A prefix as a Microsoft edge router receives it."""

    loc: Loc                  # the prefix's entry in the topology
    prefix: Prefix
    member: str | None        # the announcing member; None for the peer's own prefixes
    announcer: int            # the member's ASN, or the peer's for its own prefixes
    path: tuple[int, ...]     # leftmost first: the peer ASN, ..., the origin

    @property
    def origin(self) -> int:
        return self.path[-1]


def announced_path(peer_asn: int, member_asn: int | None,
                   prepend: Iterable[int]) -> tuple[int, ...]:
    """The AS_PATH of a prefix at the Microsoft edge.

    Assumed, as BGP builds it: every eBGP speaker puts its own ASN leftmost when it sends a route
    (RFC 4271 5.1.2); the route server is transparent and adds none (RFC 7947 2.2); a prefix's
    `as-path-prepend` lists the ASNs its announcer (the member, or the peer router for the peer's
    own prefixes) sends after its own ASN, as an export prepend does (FRR `set as-path prepend`,
    BIRD `bgp_path.prepend`), so the last of them becomes the origin. A member prefix therefore
    reaches Microsoft as (peer ASN, member ASN, *prepend), a peer prefix as (peer ASN, *prepend).
    """
    head = (peer_asn,) if member_asn is None else (peer_asn, member_asn)
    return head + tuple(prepend)


def announcements(topo: Topology) -> tuple[Announcement, ...]:
    """Every prefix the peer side announces to Microsoft, the peer's own first."""
    peer = topo.peering.peer_asn
    own = tuple(Announcement(("peering", "prefixes", j), p, None, peer,
                             announced_path(peer, None, p.as_path_prepend))
                for j, p in enumerate(topo.peering.prefixes))
    members = tuple(Announcement(("exchange", "members", i, "prefixes", j), p, m.name, m.asn,
                                 announced_path(peer, m.asn, p.as_path_prepend))
                    for i, m in enumerate(topo.exchange.members) for j, p in enumerate(m.prefixes))
    return own + members


def _is_long_ipv4(prefix: str) -> bool:
    network = ipaddress.ip_network(prefix)
    return network.version == 4 and network.prefixlen > LONGEST_IPV4_WITHOUT_ACTIVATION


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


# ---- the checks: each reads the topology and yields hits, in the catalogue's order ----

def _peer_asn(topo: Topology) -> Iterator[_Hit]:
    asn, loc = topo.peering.peer_asn, ("peering", "peer-asn")
    special = bogons.asn_range(asn)
    if asn == MICROSOFT_ASN:
        yield _Hit(rules.ASN_OWN, loc, f"AS{asn} is Microsoft's ASN")
    elif special is not None and special.use is Use.DOCUMENTATION:
        yield _Hit(rules.ASN_DOCUMENTATION, loc, f"AS{asn} is {special.describe()}")
    elif special is not None:
        yield _Hit(rules.ASN_PUBLIC, loc, f"AS{asn} is {special.describe()}")


def _member_asns(topo: Topology) -> Iterator[_Hit]:
    for i, member in enumerate(topo.exchange.members):
        special = bogons.asn_range(member.asn)
        loc = ("exchange", "members", i, "asn")
        if special is not None and special.use is Use.DOCUMENTATION:
            yield _Hit(rules.ORIGIN_ASN_DOCUMENTATION, loc,
                       f"member {member.name}: AS{member.asn} is {special.describe()}")
        elif special is not None:
            yield _Hit(rules.ORIGIN_ASN_PUBLIC, loc,
                       f"member {member.name}: AS{member.asn} is {special.describe()}")


def _registered(topo: Topology) -> Iterator[_Hit]:
    registered = {r.asn for r in topo.registered_asns}
    reported: set[int] = set()

    def unregistered(asn: int, loc: Loc, what: str) -> Iterator[_Hit]:
        if asn not in registered and asn not in reported:
            reported.add(asn)
            yield _Hit(rules.ORIGIN_REGISTERED, loc, f"AS{asn} ({what}) is not in registered-asns",
                       f"add `- {{name: ..., asn: {asn}}}` under registered-asns")

    for ann in announcements(topo):
        if ann.origin != ann.announcer:
            last = len(ann.prefix.as_path_prepend) - 1
            yield from unregistered(ann.origin, ann.loc + ("as-path-prepend", last),
                                    f"origin of {ann.prefix.prefix}, the last ASN of its path")
        elif ann.member is None:
            yield from unregistered(ann.origin, ("peering", "peer-asn"),
                                    f"the peer, origin of {ann.prefix.prefix}")
    for i, member in enumerate(topo.exchange.members):
        yield from unregistered(member.asn, ("exchange", "members", i, "asn"),
                                f"member {member.name}")


def _prefixes(topo: Topology) -> Iterator[_Hit]:
    for ann in announcements(topo):
        prefix = ann.prefix
        kind = bogons.classify_prefix(prefix.prefix)
        if kind.use is Use.DOCUMENTATION:
            yield _Hit(rules.PREFIX_DOCUMENTATION, ann.loc + ("prefix",),
                       kind.describe(prefix.prefix))
        elif kind.use is not Use.PUBLIC:
            yield _Hit(rules.PREFIX_PUBLIC, ann.loc + ("prefix",), kind.describe(prefix.prefix))
        missing = [key for key, value in (("traffic-class", prefix.traffic_class),
                                          ("endpoints", prefix.endpoints))
                   if not (value and value.strip())]
        if missing:
            yield _Hit(rules.PREFIX_DESCRIBED, ann.loc,
                       f"{prefix.prefix} has no {' and no '.join(missing)}")


def _ipv4_present(topo: Topology) -> Iterator[_Hit]:
    if not any(ipaddress.ip_network(a.prefix.prefix).version == 4 for a in announcements(topo)):
        yield _Hit(rules.PREFIX_IPV4, ("peering", "prefixes"),
                   "no IPv4 prefix in peering.prefixes or any member's prefixes")


def _as_paths(topo: Topology) -> Iterator[_Hit]:
    for ann in announcements(topo):
        for k, asn in enumerate(ann.prefix.as_path_prepend):
            special = bogons.asn_range(asn)
            if special is not None and special.use in (Use.PRIVATE, Use.RESERVED):
                yield _Hit(rules.AS_PATH_PRIVATE, ann.loc + ("as-path-prepend", k),
                           f"{ann.prefix.prefix} reaches Microsoft with AS path {list(ann.path)}: "
                           f"AS{asn} is {special.describe()}")
        if not _is_long_ipv4(ann.prefix.prefix):
            continue
        if not ann.prefix.activated:
            yield _Hit(rules.LONG_PREFIX_ACTIVATED, ann.loc + ("activated",),
                       f"{ann.prefix.prefix} is longer than "
                       f"/{LONGEST_IPV4_WITHOUT_ACTIVATION} and not activated: "
                       f"Microsoft rejects it")
        elif len(ann.path) > MAX_AS_PATH_FOR_LONG_PREFIX:
            # The peer's and the member's own ASNs are always there; only prepends can go.
            own = len(ann.path) - len(ann.prefix.as_path_prepend)
            spare = MAX_AS_PATH_FOR_LONG_PREFIX - own
            yield _Hit(rules.AS_PATH_LENGTH, ann.loc + ("as-path-prepend",),
                       f"activated {ann.prefix.prefix} reaches Microsoft with AS path "
                       f"{list(ann.path)}, {len(ann.path)} ASNs",
                       f"prepend at most {_plural(spare, 'ASN')} to this prefix")


def _links(topo: Topology) -> Iterator[_Hit]:
    if not topo.connections:
        yield _Hit(rules.PORTAL_CONNECTION, ("connections",), "no connection")
    first_on_router: dict[tuple[str, str], Loc] = {}
    for i, conn in enumerate(topo.connections):
        routers = ", ".join(link.peer_router for link in conn.links) or "none"
        if len(conn.links) < 2:
            yield _Hit(rules.LOCAL_REDUNDANCY, ("connections", i, "links"),
                       f"connection {conn.name} at {conn.location} has "
                       f"{_plural(len(conn.links), 'link')} (peer routers: {routers})")
        elif len(conn.links) > 2:
            yield _Hit(rules.TWO_LINK_MESH, ("connections", i, "links", 2),
                       f"connection {conn.name} has {len(conn.links)} links")
        for j, link in enumerate(conn.links):
            loc = ("connections", i, "links", j, "peer-router")
            first = first_on_router.setdefault((conn.location, link.peer_router), loc)
            if first != loc:
                yield _Hit(rules.ROUTER_DIVERSITY, loc,
                           f"peer router {link.peer_router} already terminates "
                           f"{yaml_path(first[:-1])} at location {conn.location}")


def _backups(topo: Topology) -> Iterator[_Hit]:
    by_name = {c.name: c for c in topo.connections}
    for i, conn in enumerate(topo.connections):
        if conn.role == "backup" and conn.backup_of is None:
            yield _Hit(rules.BACKUP_LOCATION, ("connections", i, "role"),
                       f"backup connection {conn.name} names no primary",
                       "name its primary connection with backup-of")
        elif conn.role != "backup" and conn.backup_of is not None:
            yield _Hit(rules.BACKUP_LOCATION, ("connections", i, "backup-of"),
                       f"{conn.role} connection {conn.name} is configured as a backup of "
                       f"{conn.backup_of}",
                       "remove backup-of, or make it role: backup at another location")
        elif conn.backup_of is not None and conn.backup_of in by_name:
            primary = by_name[conn.backup_of]
            if primary.location == conn.location:
                yield _Hit(rules.BACKUP_LOCATION, ("connections", i, "location"),
                           f"backup {conn.name} and its primary {primary.name} are both at "
                           f"{conn.location}",
                           "move the backup to another location, or make it role: redundant "
                           "without backup-of")


def _bandwidth(topo: Topology) -> Iterator[_Hit]:
    reference = next((c for c in topo.connections if c.role == "primary"), None)
    for i, conn in enumerate(topo.connections):
        lag = conn.lag
        if lag.member_speed_gbps < MIN_LINK_SPEED_GBPS:
            yield _Hit(rules.LINK_SPEED, ("connections", i, "lag", "member-speed-gbps"),
                       f"connection {conn.name}: LAG members of {lag.member_speed_gbps} Gbps")
        capacity = lag.members * lag.member_speed_gbps
        if capacity != conn.bandwidth_gbps:
            yield _Hit(rules.SAME_BANDWIDTH, ("connections", i, "lag"),
                       f"connection {conn.name}: its LAG carries {lag.members} × "
                       f"{lag.member_speed_gbps} = {capacity} Gbps, bandwidth-gbps says "
                       f"{conn.bandwidth_gbps}",
                       "make lag.members × lag.member-speed-gbps equal bandwidth-gbps")
        reference = reference or conn
        if conn.bandwidth_gbps != reference.bandwidth_gbps:
            yield _Hit(rules.SAME_BANDWIDTH, ("connections", i, "bandwidth-gbps"),
                       f"{conn.role} connection {conn.name} has {conn.bandwidth_gbps} Gbps, "
                       f"{reference.role} {reference.name} has {reference.bandwidth_gbps} Gbps",
                       f"set bandwidth-gbps: {reference.bandwidth_gbps}")


def _routers(topo: Topology) -> Iterator[_Hit]:
    for i, router in enumerate(topo.routers):
        loc = ("routers", i)
        if router.stateful_firewall:
            yield _Hit(rules.NO_STATEFUL_FIREWALL, loc + ("stateful-firewall",),
                       f"peer router {router.name} runs a stateful firewall")
        if router.rate_limit:
            yield _Hit(rules.NO_RATE_LIMIT, loc + ("rate-limit",),
                       f"peer router {router.name} rate-limits its interconnect")
        if router.lacp == "off":
            yield _Hit(rules.LACP, loc + ("lacp",), f"peer router {router.name} has lacp: off")
        if router.max_prefix is None:
            yield _Hit(rules.MAX_PREFIX_SET, loc,
                       f"peer router {router.name} sets no max-prefix towards Microsoft")
        elif router.max_prefix < MAX_PREFIX_MINIMUM:
            yield _Hit(rules.MAX_PREFIX_HEADROOM, loc + ("max-prefix",),
                       f"peer router {router.name}: max-prefix {router.max_prefix} is under "
                       f"{MAX_PREFIX_MINIMUM}")


def _portal(topo: Topology) -> Iterator[_Hit]:
    peering = topo.peering
    for rule, key, got, want in ((rules.PORTAL_KIND, "kind", peering.kind, KIND),
                                 (rules.PORTAL_NETWORK, "microsoft-network",
                                  peering.microsoft_network, MICROSOFT_NETWORK),
                                 (rules.PORTAL_SKU, "sku", peering.sku, SKU)):
        if got != want:
            yield _Hit(rule, ("peering", key), f"{key} is {quote(got)}, not {want!r}")
    for i, conn in enumerate(topo.connections):
        if conn.session_address_provider != SESSION_ADDRESS_PROVIDER:
            yield _Hit(rules.PORTAL_SESSION_ADDRESS, ("connections", i, "session-address-provider"),
                       f"connection {conn.name}: session-address-provider is "
                       f"{quote(conn.session_address_provider)}, not {SESSION_ADDRESS_PROVIDER!r}")
        if not conn.use_for_peering_service:
            yield _Hit(rules.PORTAL_PEERING_SERVICE, ("connections", i, "use-for-peering-service"),
                       f"connection {conn.name}: use-for-peering-service is false")


def _geo(topo: Topology) -> Iterator[_Hit]:
    used = sorted({c.location for c in topo.connections})
    if len(used) == 1:
        yield _Hit(rules.GEO_REDUNDANCY, ("locations",),
                   f"connections at one location only ({used[0]})")


CHECKS: tuple[Callable[[Topology], Iterable[_Hit]], ...] = (
    _peer_asn, _member_asns, _registered, _prefixes, _ipv4_present, _as_paths, _links, _backups,
    _bandwidth, _routers, _portal, _geo,
)

IMMUTABLE_FIELDS = ("subscription", "resource-group", "name", "peer-asn")


def _immutable(old: Topology, new: Topology) -> Iterator[_Hit]:
    for key in IMMUTABLE_FIELDS:
        before = getattr(old.peering, key.replace("-", "_"))
        after = getattr(new.peering, key.replace("-", "_"))
        if before != after:
            yield _Hit(rules.IMMUTABLE, ("peering", key),
                       f"{key} changed from {quote(before)} to {quote(after)}",
                       f"restore {key}: {before}; a new {key} needs a new peering")


# ---- reports ----

def _ordered(findings: list[Finding]) -> tuple[Finding, ...]:
    order = {rule.id: index for index, rule in enumerate(rules.RULES)}
    return tuple(sorted(findings, key=lambda f: (f.file is not None, f.line is None, f.line or 0,
                                                 order.get(f.rule, -1))))


def _report(hits: Iterable[_Hit], lines: dict[Loc, int] | None) -> Report:
    # A finding names values of the file: bounded, whatever their length there.
    return Report(_ordered([Finding(h.rule.id, h.rule.severity, yaml_path(h.loc),
                                    line_at(lines, h.loc) if lines else None,
                                    clip(h.found, MAX_FOUND), clip(h.fix or h.rule.fix, MAX_FOUND))
                            for h in hits]))


def validate(topo: Topology, lines: dict[Loc, int] | None = None) -> Report:
    """Check a topology against every rule of the page; `lines` from loader.load_with_lines."""
    return _report((hit for check in CHECKS for hit in check(topo)), lines)


def validate_change(old: Topology, new: Topology, lines: dict[Loc, int] | None = None) -> Report:
    """Check `new` as `validate` does, and that it keeps what a peering can never change."""
    hits = [hit for check in CHECKS for hit in check(new)]
    return _report(hits + list(_immutable(old, new)), lines)


def _summary(report: Report, source: str) -> str:
    verdict = "valid" if report.ok else "not valid"
    return (f"{source}: {verdict}: {_plural(len(report.errors), 'error')}, "
            f"{_plural(len(report.warnings), 'warning')}")


def render_text(report: Report, source: str) -> str:
    """Compiler-style: `file:line: severity: path: found [RULE]`, the page's words, the fix."""
    out = []
    for f in report.findings:
        file = f.file or source
        where = f"{file}:{f.line}" if f.line else file
        out.append(f"{where}: {f.severity.value}: {f.path or '(top)'}: {f.found} [{f.rule}]")
        if f.wording:
            out.append(f"    rule: {f.wording}")
        if f.fix:
            out.append(f"    fix:  {f.fix}")
    out.append(_summary(report, source))
    return "\n".join(out) + "\n"


def render_json(report: Report, source: str) -> dict[str, Any]:
    """The same report for machines (`mapslab validate --format json`)."""
    return {
        "source": source,
        "ok": report.ok,
        "errors": len(report.errors),
        "warnings": len(report.warnings),
        "findings": [
            {"rule": f.rule, "severity": f.severity.value, "file": f.file or source,
             "path": f.path, "line": f.line, "found": f.found, "fix": f.fix, "title": f.title,
             "wording": f.wording}
            for f in report.findings],
    }
