"""Malformed input never ends in a traceback: every file loads, or fails with a TopologyError.

Random YAML text, random YAML documents, and valid topologies mutated at random (a value
replaced, a key dropped, a line deleted or cut). Whatever loads is then validated and rendered,
which must not fail either.
"""
from __future__ import annotations

import ipaddress
import json
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator.core.errors import TopologyError
from emulator.topology.loader import parse_with_lines
from emulator.topology.validate import render_json, render_text, validate, validate_change
from tests.conftest import ROOT

SEATTLE = (ROOT / "topologies" / "seattle.yaml").read_text(encoding="utf-8")
SEATTLE_RAW = yaml.safe_load(SEATTLE)
FUZZ = settings(max_examples=100, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# Values that sit on the edges the loader and the rules care about.
EDGE_VALUES = st.sampled_from([
    None, True, False, 0, -1, 1, 23456, 64512, 65535, 65536, 8075, 4294967295, 2**32, 2**64, 1.5,
    "", " ", "off", "on", "yes", "no", "Direct", "Premium Free", "Peer", "0.0.0.0/0", "::/0",
    "10.0.0.0/8", "198.51.100.128/25", "192.0.2.1/24", "2001:db8::/32", "fe80::/10", "1.2.3.4/33",
    "not a prefix", "sea", "sea-pr1", "sea-1", "x" * 40, "UPPER", "ünïcode", [], {}, [1, 2],
    {"prefix": "203.0.113.0/25", "activated": True, "as-path-prepend": [64512, 1, 2, 3]},
])
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                    st.text(max_size=20), EDGE_VALUES)
DOCUMENTS = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)),
    max_leaves=20)


@st.composite
def networks(draw: st.DrawFn) -> str:
    version = draw(st.sampled_from([4, 6]))
    address = draw(st.ip_addresses(v=version))
    length = draw(st.integers(0, 32 if version == 4 else 128))
    return str(ipaddress.ip_network(f"{address}/{length}", strict=False))


def like(value: Any) -> st.SearchStrategy[Any]:
    """A value of the same shape, so that the file still loads and the rules get exercised."""
    if isinstance(value, bool):
        return st.booleans()
    if isinstance(value, int):
        return st.one_of(st.integers(0, 2**32 - 1), st.sampled_from(
            [0, 1, 10, 399, 400, 8075, 23456, 64496, 64512, 65535, 65536, 65552, 4200000000]))
    if isinstance(value, str) and "/" in value:
        return networks()
    if isinstance(value, str):
        return st.sampled_from(["active", "passive", "off", "primary", "backup", "redundant",
                                "sea", "sea-1", "sea-pr1", "sea-pr2", "Direct", "Peer", "", "x"])
    return st.just(value)


def outcome(text: str) -> None:
    """Load the text; if it loads, validate and render. Only TopologyError may escape."""
    try:
        topo, lines = parse_with_lines(text, "fuzz.yaml")
    except TopologyError as exc:
        assert exc.problems and all(p.render("fuzz.yaml") for p in exc.problems)
        return
    report = validate(topo, lines)
    render_text(report, "fuzz.yaml")
    json.dumps(render_json(report, "fuzz.yaml"))
    render_text(validate_change(topo, topo, lines), "fuzz.yaml")


def paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every path into a YAML document, containers included."""
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += paths(value, prefix + (key,))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += paths(value, prefix + (index,))
    return found


def get(node: Any, path: tuple) -> Any:
    for part in path:
        node = node[part]
    return node


def replaced(node: Any, path: tuple, value: Any, drop: bool) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(node, dict):
        copy = dict(node)
        if drop and not rest:
            del copy[head]
        else:
            copy[head] = replaced(node[head], rest, value, drop)
        return copy
    copy = list(node)
    if drop and not rest:
        del copy[head]
    else:
        copy[head] = replaced(node[head], rest, value, drop)
    return copy


@FUZZ
@given(st.text(max_size=300))
def test_random_text(text: str):
    outcome(text)


@FUZZ
@given(DOCUMENTS)
def test_random_yaml_documents(document: Any):
    outcome(yaml.safe_dump(document, allow_unicode=True))


@FUZZ
@given(st.data())
def test_mutated_seattle(data: st.DataObject):
    candidates = paths(SEATTLE_RAW)
    path = data.draw(st.sampled_from(candidates), label="path")
    drop = bool(path) and data.draw(st.booleans(), label="drop")
    value = None if drop else data.draw(DOCUMENTS, label="value")
    outcome(yaml.safe_dump(replaced(SEATTLE_RAW, path, value, drop), allow_unicode=True))


@FUZZ
@given(st.data())
def test_mutated_seattle_values(data: st.DataObject):
    document = SEATTLE_RAW
    for _ in range(data.draw(st.integers(1, 4), label="edits")):
        leaves = [p for p in paths(document) if not isinstance(get(document, p), (dict, list))]
        path = data.draw(st.sampled_from(leaves), label="path")
        document = replaced(document, path, data.draw(like(get(document, path))), False)
    outcome(yaml.safe_dump(document, allow_unicode=True))


@FUZZ
@given(st.data())
def test_mutated_seattle_text(data: st.DataObject):
    lines = SEATTLE.splitlines(keepends=True)
    for _ in range(data.draw(st.integers(1, 3), label="edits")):
        index = data.draw(st.integers(0, len(lines) - 1), label="line")
        edit = data.draw(st.sampled_from(["delete", "cut", "insert", "indent", "duplicate"]))
        if edit == "delete":
            del lines[index]
        elif edit == "cut":
            lines[index] = lines[index][:data.draw(st.integers(0, len(lines[index])))]
        elif edit == "insert":
            lines.insert(index, data.draw(st.text(max_size=30)) + "\n")
        elif edit == "indent":
            lines[index] = " " * data.draw(st.integers(1, 4)) + lines[index]
        else:
            lines.insert(index, lines[index])
        if not lines:
            break
    outcome("".join(lines))


def test_known_crashers_end_in_topology_errors():
    for text in ("a: &x [*x]", "&x [*x]", "[" * 5000 + "]" * 5000, "? [a]\n: b",
                 "lab: &l sea\npeering: &p {name: *l, prefixes: [*p]}", "\x00", "!!binary AA==",
                 "peering: !!set {a, b}", "--- a\n--- b\n"):
        outcome(text)
