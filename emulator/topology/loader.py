"""YAML → Topology: the parse edge, the only module that handles raw dicts.

Every problem is collected with its YAML path and line, then raised once as TopologyError.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pydantic
import yaml

from emulator.core.errors import Problem, TopologyError
from emulator.topology.intent import Topology

Loc = tuple[str | int, ...]


def _lines(node: yaml.Node, loc: Loc, out: dict[Loc, int], seen: set[int] | None = None) -> None:
    """Map each YAML path to the 1-based line where its value starts."""
    out[loc] = node.start_mark.line + 1
    # An alias is the anchored node itself: descend once, so that a cycle (`&a [*a]`) or a
    # billion-laughs file ends; paths below a repeated alias take the anchor's line.
    seen = set() if seen is None else seen
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode):
                continue
            out[loc + (key.value,)] = key.start_mark.line + 1
            _lines(value, loc + (key.value,), out, seen)
            out[loc + (key.value,)] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _lines(item, loc + (index,), out, seen)


def _render(loc: Loc) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _line(lines: dict[Loc, int], loc: Loc) -> int | None:
    while loc not in lines and loc:
        loc = loc[:-1]
    return lines.get(loc)


def _pydantic_problems(exc: pydantic.ValidationError, lines: dict[Loc, int]) -> list[Problem]:
    problems = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = f"unknown field {loc[-1]!r}"
        elif err["type"] == "missing":
            message = f"missing required field {loc[-1]!r}"
        elif err["type"].startswith("literal_error"):
            message = f"{message}, got {err.get('input')!r}"
        problems.append(Problem(_render(loc), message, _line(lines, loc)))
    return problems


def _references(topo: Topology, lines: dict[Loc, int]) -> list[Problem]:
    """Names used in one place must be declared in another."""
    problems: list[Problem] = []

    def bad(loc: Loc, message: str) -> None:
        problems.append(Problem(_render(loc), message, _line(lines, loc), "REFERENCE"))

    locations = {loc.name for loc in topo.locations}
    routers = {r.name: r for r in topo.routers}
    connections = {c.name for c in topo.connections}
    seen: dict[str, Loc] = {}
    node_names = [(("routers", i, "name"), r.name) for i, r in enumerate(topo.routers)]
    node_names.append((("exchange", "route-server", "name"), topo.exchange.route_server.name))
    node_names += [(("exchange", "members", i, "name"), m.name)
                   for i, m in enumerate(topo.exchange.members)]
    for loc, name in node_names:
        if name in seen:
            bad(loc, f"name {name!r} is already used at {_render(seen[name])}")
        seen[name] = loc
    for i, router in enumerate(topo.routers):
        if router.location not in locations:
            bad(("routers", i, "location"), f"unknown location {router.location!r}")
    for i, conn in enumerate(topo.connections):
        if conn.location not in locations:
            bad(("connections", i, "location"), f"unknown location {conn.location!r}")
        if conn.backup_of is not None and conn.backup_of not in connections:
            bad(("connections", i, "backup-of"), f"unknown connection {conn.backup_of!r}")
        for j, link in enumerate(conn.links):
            router = routers.get(link.peer_router)
            if router is None:
                bad(("connections", i, "links", j, "peer-router"),
                    f"unknown peer router {link.peer_router!r}")
            elif router.location != conn.location:
                bad(("connections", i, "links", j, "peer-router"),
                    f"peer router {router.name!r} is at {router.location!r}, "
                    f"not at the connection's location {conn.location!r}")
    return problems


def parse(text: str, source: str) -> Topology:
    """Parse topology YAML text; raise TopologyError listing every problem."""
    return parse_with_lines(text, source)[0]


def parse_with_lines(text: str, source: str) -> tuple[Topology, dict[Loc, int]]:
    """As parse, also returning the YAML path → line map (for emulator.topology.validate)."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        raw: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        reason = getattr(exc, "problem", None) or str(exc)
        raise TopologyError(source, [Problem("", f"YAML syntax error: {reason}", line, "YAML")]) from None
    except RecursionError:
        # PyYAML's composer recurses once per nesting level.
        raise TopologyError(source, [Problem("", "YAML nested too deeply", None, "YAML")]) from None
    lines: dict[Loc, int] = {}
    if root is not None:
        _lines(root, (), lines)
    if not isinstance(raw, dict):
        raise TopologyError(source, [Problem("", "the file must hold a mapping (key: value) at the top",
                                             1, "FORMAT")])
    raw = dict(raw)
    raw.setdefault("lab", Path(source).stem)
    try:
        topo = Topology.model_validate(raw)
    except pydantic.ValidationError as exc:
        raise TopologyError(source, _pydantic_problems(exc, lines)) from None
    problems = _references(topo, lines)
    if problems:
        raise TopologyError(source, problems)
    return topo, lines


def load(path: str | Path) -> Topology:
    return load_with_lines(path)[0]


def load_with_lines(path: str | Path) -> tuple[Topology, dict[Loc, int]]:
    """As load, also returning the YAML path → line map (for emulator.topology.validate)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TopologyError(str(path), [Problem("", f"cannot read the file: {exc}", None, "FILE")]) from None
    return parse_with_lines(text, str(path))


def yaml_path(loc: Loc) -> str:
    """A YAML path as problems show it: ``connections[0].links[1].peer-router``."""
    return _render(loc)


def line_at(lines: dict[Loc, int], loc: Loc) -> int | None:
    """The line of a YAML path, or of its nearest written ancestor (defaults are not written)."""
    return _line(lines, loc)
