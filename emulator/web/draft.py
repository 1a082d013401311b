"""The Create wizard's draft: a topology file being written through the portal's forms.

This is a parse edge, like emulator.topology.loader: the forms' fields go into the topology as
the YAML file holds it (kebab-case keys), and every check goes through the CLI's own functions:
the text is parsed by `loader.parse_with_lines`, judged by `validate.validate`, and resolved
by `plan.resolve`, exactly as `mapslab validate` does. Nothing here knows a rule of the page.

Each finding is placed on the wizard's field whose YAML path is the finding's path or the
nearest written ancestor of it (`connections[0].lag.members` lands on the row `connections[0]`);
a finding about a part of the topology the forms do not show stays on the Review tab.
"""
from __future__ import annotations

import copy
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from emulator.core.errors import MapsLabError, TopologyError
from emulator.plan.resolve import resolve
from emulator.topology import generate, rules
from emulator.topology.loader import load, parse_with_lines
from emulator.topology.validate import validate

# The wizard's fields by YAML path, and the tab each is on (the page's Basics and Configuration).
BASICS = ("lab", "peering.subscription", "peering.resource-group", "peering.name",
          "peering.peer-asn")
CONFIGURATION = ("peering.kind", "peering.microsoft-network", "peering.sku", "connections")
CONNECTION_SHOWN = ("name", "location", "bandwidth-gbps", "session-address-provider",
                    "use-for-peering-service")
# The key is a field findings land on, never a value the forms show back (only whether it is set).
CONNECTION_KEYS = (*CONNECTION_SHOWN, "md5-key")
# The metros a connection can be placed at: those the lab knows (emulator.topology.generate).
METROS = generate.METROS
BANDWIDTHS = (10, 20, 40, 80, 100)
LINK_SPEED_GBPS = 10
# The name of the peer's own registered ASN in a new peering.
PEER_REGISTRATION = "peer"


@dataclass
class Draft:
    id: str
    data: dict[str, Any]                 # the topology as its YAML file holds it
    source: str | None = None            # the file it was opened from
    base_dir: Path | None = None         # that file's folder (for `config:` paths)


@dataclass(frozen=True)
class Placed:
    """A finding of the validator (or a problem of the loader) on the wizard's field."""

    rule: str
    severity: str
    path: str
    field: str | None            # the wizard's field (a YAML path), None: Review tab only
    tab: str                     # basics | configuration | review
    found: str
    fix: str
    title: str = ""
    wording: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "severity": self.severity, "path": self.path,
                "field": self.field, "tab": self.tab, "found": self.found, "fix": self.fix,
                "title": self.title, "wording": self.wording}


@dataclass(frozen=True)
class Checked:
    findings: tuple[Placed, ...] = ()
    errors: int = 0

    @property
    def ok(self) -> bool:
        return self.errors == 0


@dataclass
class Drafts:
    """The drafts of one portal run, by id."""

    found: dict[str, Draft] = field(default_factory=dict)

    def add(self, data: dict[str, Any], source: str | None = None,
            base_dir: Path | None = None) -> Draft:
        draft = Draft(secrets.token_hex(8), data, source, base_dir)
        self.found[draft.id] = draft
        return draft

    def get(self, draft_id: str) -> Draft | None:
        return self.found.get(draft_id)


# ---- a new draft, or one opened from a file ----

def blank() -> dict[str, Any]:
    """A new peering: the lab's usual exchange side (generate's), no connection yet."""
    topo = generate.topology(1, "lab")
    data = topo.model_dump(mode="json", by_alias=True, exclude_none=True)
    data["lab"] = ""
    data["peering"].update({"name": "", "subscription": "00000000-0000-0000-0000-000000000000",
                            "resource-group": "rg-peering"})
    data["peering"].pop("peer-asn")
    data["registered-asns"] = [e for e in data["registered-asns"]
                               if e["asn"] != generate.PEER_ASN]
    data.update({"locations": [], "routers": [], "connections": []})
    return data


def opened(path: Path) -> tuple[dict[str, Any], Path]:
    """A topology file as it is written; TopologyError when the CLI would not read it."""
    load(path)                                   # the CLI's own reading, problems and all
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    base = path.resolve().parent
    return _absolute_configs(data, base), base


def _absolute_configs(data: dict[str, Any], base: Path) -> dict[str, Any]:
    """`config:` paths resolved against the file's folder, so a copy elsewhere means the same."""
    data = copy.deepcopy(data)
    holders = list(data.get("routers") or [])
    exchange = data.get("exchange") or {}
    holders += [exchange.get("route-server") or {}] + list(exchange.get("members") or [])
    for holder in holders:
        config = holder.get("config") if isinstance(holder, dict) else None
        if isinstance(config, str) and not Path(config).is_absolute():
            holder["config"] = str((base / config).resolve())
    return data


def text(draft: Draft) -> str:
    """The draft as a topology file the CLI reads."""
    source = f" (opened from {draft.source})" if draft.source else ""
    return (f"# Written by the maps-lab portal{source}; `mapslab validate` and `mapslab up` "
            f"read it.\n" + yaml.safe_dump(draft.data, sort_keys=False, default_flow_style=False,
                                           width=100, allow_unicode=True))


# ---- the forms ----

def _number(value: object) -> object:
    """A number typed in a form; anything else is left for the loader to refuse, in its words."""
    if isinstance(value, str) and re.fullmatch(r"\s*\d+\s*", value):
        return int(value)
    return value


def _truth(value: object) -> bool:
    return value in (True, "true", "on", "1", 1)


def set_basics(draft: Draft, fields: dict[str, Any]) -> None:
    peering = draft.data.setdefault("peering", {})
    old_asn = peering.get("peer-asn")
    if "lab" in fields:
        draft.data["lab"] = str(fields["lab"]).strip()
    for key in ("subscription", "resource-group", "name"):
        if key in fields:
            peering[key] = str(fields[key]).strip()
    if "peer-asn" in fields:
        asn = _number(fields["peer-asn"])
        peering["peer-asn"] = asn
        # The peer originates peering.prefixes: its registration follows its ASN.
        registered = draft.data.setdefault("registered-asns", [])
        mine = [e for e in registered if isinstance(e, dict) and old_asn is not None
                and e.get("asn") == old_asn]
        for entry in mine:
            entry["asn"] = asn
        if not mine and peering.get("prefixes") and not any(
                isinstance(e, dict) and e.get("asn") == asn for e in registered):
            registered.insert(0, {"name": PEER_REGISTRATION, "asn": asn})


def set_configuration(draft: Draft, fields: dict[str, Any]) -> None:
    peering = draft.data.setdefault("peering", {})
    for key in ("kind", "microsoft-network", "sku"):
        if key in fields:
            peering[key] = str(fields[key])


def _lag(bandwidth: object) -> dict[str, Any]:
    """The connection's LAG: members of 10 Gbps (100 Gbps for 100), carrying the bandwidth."""
    if bandwidth == 100:
        return {"members": 1, "member-speed-gbps": 100, "lacp-rate": "fast"}
    members = bandwidth // LINK_SPEED_GBPS if isinstance(bandwidth, int) else 2
    return {"members": max(1, min(8, members)), "member-speed-gbps": LINK_SPEED_GBPS,
            "lacp-rate": "fast"}


def add_connection(draft: Draft, fields: dict[str, Any]) -> int:
    """The connection dialog: a connection at a metro, its two links on the location's two
    peer routers (added with the location if the draft has none there). Its index."""
    site = str(fields.get("location", "")).strip()
    metro = dict(METROS).get(site, site)
    data = draft.data
    locations = data.setdefault("locations", [])
    if not any(loc.get("name") == site for loc in locations):
        locations.append({"name": site, "metro": metro})
    routers = data.setdefault("routers", [])
    pair = [f"{site}-pr1", f"{site}-pr2"]
    for name in pair:
        if not any(r.get("name") == name for r in routers):
            routers.append({"name": name, "location": site, "software": "frr",
                            "lacp": "active", "max-prefix": 500})
    connections = data.setdefault("connections", [])
    taken = {c.get("name") for c in connections}
    number = next(n for n in range(1, len(connections) + 2) if f"{site}-{n}" not in taken)
    bandwidth = _number(fields.get("bandwidth-gbps", 20))
    connections.append({
        "name": str(fields.get("name") or f"{site}-{number}"), "location": site,
        "role": "primary", "bandwidth-gbps": bandwidth,
        "session-address-provider": str(fields.get("session-address-provider", "Peer")),
        "use-for-peering-service": _truth(fields.get("use-for-peering-service", True)),
        "lag": _lag(bandwidth), "links": [{"peer-router": name} for name in pair]})
    key = fields.get("md5-key")
    if key not in (None, ""):
        connections[-1]["md5-key"] = key            # validated with the rest (MAPS rules, format)
    return len(connections) - 1


def remove_connection(draft: Draft, index: int) -> None:
    """Remove a connection, and the routers and locations nothing uses any more."""
    data = draft.data
    connections = data.get("connections") or []
    if not 0 <= index < len(connections):
        return
    del connections[index]
    used = {link.get("peer-router") for c in connections for link in c.get("links") or []}
    data["routers"] = [r for r in data.get("routers") or [] if r.get("name") in used]
    sites = {c.get("location") for c in connections} | {r.get("location")
                                                         for r in data["routers"]}
    data["locations"] = [loc for loc in data.get("locations") or [] if loc.get("name") in sites]


def values(draft: Draft) -> dict[str, Any]:
    """What the forms show."""
    data, peering = draft.data, draft.data.get("peering") or {}
    return {"lab": data.get("lab", ""),
            **{f"peering.{k}": peering.get(k, "") for k in
               ("subscription", "resource-group", "name", "peer-asn", "kind",
                "microsoft-network", "sku")},
            "connections": [{k: c.get(k) for k in CONNECTION_SHOWN}
                            | {"md5": bool(c.get("md5-key")),
                               "members": (c.get("lag") or {}).get("members", 2),
                               "links": [link.get("peer-router") for link in c.get("links") or []]}
                            for c in data.get("connections") or []]}


# ---- Review + create: the CLI's checks, placed on the fields ----

def fields(draft: Draft) -> list[str]:
    rows = len(draft.data.get("connections") or [])
    return [*BASICS, *CONFIGURATION] + [f"connections[{i}]" for i in range(rows)] + [
        f"connections[{i}].{key}" for i in range(rows) for key in CONNECTION_KEYS]


def place(path: str, known: list[str]) -> str | None:
    """The wizard's field for a YAML path: itself, or its nearest ancestor on the form."""
    best = None
    for candidate in known:
        if path == candidate or path.startswith(candidate + ".") \
                or path.startswith(candidate + "["):
            best = candidate if best is None or len(candidate) > len(best) else best
    return best


def tab_of(field_path: str | None) -> str:
    if field_path in BASICS:
        return "basics"
    if field_path is not None and (field_path in CONFIGURATION
                                   or field_path.startswith("connections[")):
        return "configuration"
    return "review"


def _placed(rule: str, severity: str, path: str, found: str, fix: str, known: list[str]) -> Placed:
    where = place(path, known)
    try:
        catalogue = rules.by_id(rule)
        title, wording = catalogue.title, catalogue.wording
    except KeyError:                  # FORMAT, REFERENCE, YAML: the loader's, not the page's
        title, wording = "", ""
    return Placed(rule, severity, path, where, tab_of(where), found, fix, title, wording)


def check(draft: Draft) -> Checked:
    """Every problem the CLI would report for this draft (`mapslab validate`), on its field."""
    known = fields(draft)
    source = draft.source or "portal"
    try:
        topo, lines = parse_with_lines(text(draft), source)
    except TopologyError as exc:
        found = tuple(_placed(p.rule, "error", p.path, p.message, "", known)
                      for p in exc.problems)
        return Checked(found, len(found))
    report = validate(topo, lines)
    found = [_placed(f.rule, f.severity.value, f.path, f.found, f.fix, known)
             for f in report.findings]
    if report.ok:
        try:
            resolve(topo, draft.base_dir)        # names and addresses must also fit a lab
        except MapsLabError as exc:
            found.append(_placed("PLAN", "error", "", str(exc), "", known))
    return Checked(tuple(found), sum(1 for f in found if f.severity == "error"))


def for_tab(checked: Checked, tab: str, only: str | None = None) -> list[dict[str, Any]]:
    """The findings one step of the wizard shows (only: one field and what is under it)."""
    return [f.to_json() for f in checked.findings
            if f.tab == tab and (only is None or (f.field or "").startswith(only))]


def save(draft: Draft, folder: Path) -> Path:
    """Write the draft where `mapslab up` reads it: FOLDER/LAB.yaml."""
    folder.mkdir(parents=True, exist_ok=True)
    lab = str(draft.data.get("lab") or "draft")
    path = folder / f"{re.sub(r'[^a-z0-9]+', '-', lab.lower()) or 'draft'}.yaml"
    path.write_text(text(draft), encoding="utf-8")
    return path
