"""YAML → Topology: the parse edge, the only module that handles raw dicts.

Every problem is collected with its YAML path and line. The stages run as far as they can:
the YAML (emulator.topology.yamlread), the shape (the models of emulator.topology.intent), and
the references between names. A shape problem that only drops a key (an unknown field, a
wrong value where a default exists) still yields a topology, without that key, so that the
later stages and the page's rules see the rest of the file.

`read` returns what was found; `parse`/`load` raise TopologyError listing every problem.
"""
from __future__ import annotations

import copy
import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pydantic

from emulator.core.errors import Problem, TopologyError
from emulator.topology.generated import generated_names
from emulator.topology.intent import Topology
from emulator.topology.yamlread import MAX_BYTES, clip, quote, read_yaml

Loc = tuple[str | int, ...]


@dataclass
class Loaded:
    """A topology file as far as it could be read.

    `topo` is None when the file's shape does not allow one; `exact` is False when it was built
    without the keys named by shape problems; `references_ok` when every name resolves."""

    source: str
    topo: Topology | None = None
    lines: dict[Loc, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    exact: bool = False
    references_ok: bool = False


def _render(loc: Loc) -> str:
    text = ""
    for part in loc:
        part = part if isinstance(part, int) else clip(str(part), 40)
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _line(lines: dict[Loc, int], loc: Loc) -> int | None:
    while loc not in lines and loc:
        loc = loc[:-1]
    return lines.get(loc)


def _pydantic_problems(exc: pydantic.ValidationError, lines: dict[Loc, int]) -> list[Problem]:
    problems = []
    for err in exc.errors(include_url=False, include_input=True):
        loc = tuple(err["loc"])
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = f"unknown field {quote(loc[-1])}"
        elif err["type"] == "missing":
            message = f"missing required field {quote(loc[-1])}"
        elif err["type"].startswith("literal_error") or err["type"] in (
                "int_type", "int_parsing", "int_parsing_size", "int_from_float", "bool_type",
                "bool_parsing", "string_type", "finite_number", "list_type", "model_type",
                "dict_type"):
            message = f"{message}, got {quote(err.get('input'))}"
        problems.append(Problem(_render(loc), clip(message, 300), _line(lines, loc)))
    return problems


def _deletable(raw: Any, loc: Loc) -> Loc | None:
    """The key to drop for a shape error at `loc`: the deepest written key of a mapping on the
    way; None when the error is about a list item or a missing key (nothing to drop)."""
    node, target = raw, None
    for index, part in enumerate(loc):
        if isinstance(node, dict) and isinstance(part, str) and part in node:
            target = loc[:index + 1]
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            target = None
            node = node[part]
        else:
            break
    return target


def _without(raw: Any, locs: list[Loc]) -> Any:
    trimmed = copy.deepcopy(raw)
    for loc in sorted(set(locs), key=len, reverse=True):
        node = trimmed
        for part in loc[:-1]:
            node = node[part]
        node.pop(loc[-1], None)
    return trimmed


def _shape(raw: dict[str, Any], lines: dict[Loc, int],
           loaded: Loaded) -> Topology | None:
    try:
        topo = Topology.model_validate(raw)
        loaded.exact = True
        return topo
    except pydantic.ValidationError as exc:
        loaded.problems += _pydantic_problems(exc, lines)
        errors = exc.errors(include_url=False, include_input=False)
    targets = [_deletable(raw, tuple(e["loc"])) for e in errors]
    if any(t is None or e["type"] == "missing" for t, e in zip(targets, errors)):
        return None
    try:
        return Topology.model_validate(_without(raw, [t for t in targets if t is not None]))
    except pydantic.ValidationError:
        return None     # a dropped key was required: the problems above say which


def _references(topo: Topology, lines: dict[Loc, int]) -> list[Problem]:
    """Names used in one place must be declared in another, and be the user's to take."""
    problems: list[Problem] = []

    def bad(loc: Loc, message: str, rule: str = "REFERENCE") -> None:
        problems.append(Problem(_render(loc), clip(message, 300), _line(lines, loc), rule))

    locations = {loc.name for loc in topo.locations}
    routers = {r.name: r for r in topo.routers}
    connections = {c.name for c in topo.connections}
    seen: dict[str, Loc] = {}
    created = generated_names([loc.name for loc in topo.locations], topo.microsoft.internet)
    node_names = [(("routers", i, "name"), r.name) for i, r in enumerate(topo.routers)]
    node_names.append((("exchange", "route-server", "name"), topo.exchange.route_server.name))
    node_names += [(("exchange", "members", i, "name"), m.name)
                   for i, m in enumerate(topo.exchange.members)]
    for loc, name in node_names:
        if name in created:
            bad(loc, f"name {quote(name)} is taken by a node the lab creates: {created[name]} "
                     f"(edge routers are named <location>-ms1 and <location>-ms2)")
        elif name in seen:
            bad(loc, f"name {quote(name)} is already used at {_render(seen[name])}")
        seen[name] = loc
    for i, router in enumerate(topo.routers):
        if router.location not in locations:
            bad(("routers", i, "location"), f"unknown location {quote(router.location)}")
    for i, conn in enumerate(topo.connections):
        if conn.location not in locations:
            bad(("connections", i, "location"), f"unknown location {quote(conn.location)}")
        if conn.backup_of is not None and conn.backup_of not in connections:
            bad(("connections", i, "backup-of"), f"unknown connection {quote(conn.backup_of)}")
        for j, link in enumerate(conn.links):
            router = routers.get(link.peer_router)
            if router is None:
                bad(("connections", i, "links", j, "peer-router"),
                    f"unknown peer router {quote(link.peer_router)}")
            elif router.location != conn.location:
                bad(("connections", i, "links", j, "peer-router"),
                    f"peer router {quote(router.name)} is at {quote(router.location)}, "
                    f"not at the connection's location {quote(conn.location)}")
    problems += _link_overlaps(topo, lines)
    return problems


def _link_overlaps(topo: Topology, lines: dict[Loc, int]) -> list[Problem]:
    """Two interconnect links cannot share addresses: each subnet numbers one point-to-point
    link (RFC 3021 /31, RFC 6164 /127), so subnets that overlap would put one address on two."""
    problems: list[Problem] = []
    declared: list[tuple[Loc, ipaddress.IPv4Network | ipaddress.IPv6Network]] = []
    for i, conn in enumerate(topo.connections):
        for j, link in enumerate(conn.links):
            for family in ("ipv4", "ipv6"):
                value = getattr(link, family)
                if value is None:
                    continue
                loc: Loc = ("connections", i, "links", j, family)
                network = ipaddress.ip_network(value)
                for other_loc, other in declared:
                    if other.version == network.version and network.overlaps(other):
                        problems.append(Problem(
                            _render(loc), f"{network} overlaps {other} of {_render(other_loc)}: "
                            f"each link needs subnets of its own", _line(lines, loc), "ADDRESS"))
                        break
                declared.append((loc, network))
    return problems


def read(text: str, source: str) -> Loaded:
    """Every stage that can run on the text; problems instead of exceptions."""
    loaded = Loaded(source)
    yaml_read = read_yaml(text)
    loaded.lines, loaded.problems = yaml_read.lines, list(yaml_read.problems)
    raw = yaml_read.data
    if raw is None and yaml_read.problems:
        return loaded
    if not isinstance(raw, dict):
        loaded.problems.append(Problem("", "the file must hold a mapping (key: value) at the top",
                                       1, "FORMAT"))
        return loaded
    raw = dict(raw)
    raw.setdefault("lab", Path(source).stem)
    topo = _shape(raw, loaded.lines, loaded)
    if topo is None:
        return loaded
    loaded.topo = topo
    references = _references(topo, loaded.lines)
    loaded.problems += references
    loaded.references_ok = not references
    loaded.exact = loaded.exact and not yaml_read.problems
    return loaded


def read_file(path: str | Path) -> Loaded:
    """As read, from a file; a file that cannot be read is a FILE problem."""
    path = Path(path)
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        return Loaded(str(path), problems=[Problem("", clip(f"cannot read the file: {exc}", 300),
                                                   None, "FILE")])
    if len(data) > MAX_BYTES:
        return Loaded(str(path), problems=[Problem(
            "", f"cannot read the file: larger than {MAX_BYTES} bytes; a topology is far "
            f"smaller", None, "FILE")])
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        return Loaded(str(path), problems=[Problem(
            "", f"cannot read the file: byte 0x{data[exc.start]:02x} at offset {exc.start} is "
            f"not UTF-8 (YAML 1.2 5.2); save the file as UTF-8", line, "FILE")])
    return read(text, str(path))


def _raise(loaded: Loaded) -> tuple[Topology, dict[Loc, int]]:
    if loaded.problems or loaded.topo is None:
        raise TopologyError(loaded.source, loaded.problems or [
            Problem("", "the file holds no topology", None, "FORMAT")])
    return loaded.topo, loaded.lines


def parse(text: str, source: str) -> Topology:
    """Parse topology YAML text; raise TopologyError listing every problem."""
    return parse_with_lines(text, source)[0]


def parse_with_lines(text: str, source: str) -> tuple[Topology, dict[Loc, int]]:
    """As parse, also returning the YAML path → line map (for emulator.topology.validate)."""
    return _raise(read(text, source))


def load(path: str | Path) -> Topology:
    return load_with_lines(path)[0]


def load_with_lines(path: str | Path) -> tuple[Topology, dict[Loc, int]]:
    """As load, also returning the YAML path → line map (for emulator.topology.validate)."""
    return _raise(read_file(path))


def yaml_path(loc: Loc) -> str:
    """A YAML path as problems show it: ``connections[0].links[1].peer-router``."""
    return _render(loc)


def line_at(lines: dict[Loc, int], loc: Loc) -> int | None:
    """The line of a YAML path, or of its nearest written ancestor (defaults are not written)."""
    return _line(lines, loc)
