"""YAML text → plain data, within bounds: no input makes the reader hang, crash or swell.

PyYAML's safe loader, plus what a topology file needs and PyYAML leaves open:
- a number longer than any the topology holds is refused at its line, before Python's
  integer conversion limit (CVE-2020-10735) would end in a ValueError;
- a float keeps the text it was written as, so that an ASN written in asdot (`1.10`, RFC 5396)
  can be named as written rather than as the float 1.1;
- a key given twice in one mapping is reported with both lines (YAML 1.2 2.2: keys are unique;
  PyYAML keeps the last one silently);
- aliases may not expand the document past MAX_VALUES values, nor refer to themselves (a
  "billion laughs" file is refused before anything walks the expanded value);
- every path of the document is mapped to the line where it is written.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml

from emulator.core.errors import Problem

Loc = tuple[str | int, ...]

MAX_BYTES = 4 * 1024 * 1024        # a generated 64-location topology is ~45 kB
MAX_VALUES = 100_000               # expanded values (scalars and containers), aliases included
MAX_NUMBER_CHARS = 40              # an ASN has at most 10 digits; 2**128 has 39
MAX_QUOTE = 60                     # characters of a value a message quotes


def clip(text: str, limit: int = MAX_QUOTE) -> str:
    """At most `limit` characters of a text, saying how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text)} characters)"


def quote(value: object) -> str:
    """A value as a message quotes it: its repr, bounded (the value may be huge or cyclic)."""
    if isinstance(value, (dict, list, tuple, set)):
        kind = type(value).__name__
        return f"a {'mapping' if kind == 'dict' else 'list'} of {len(value)} entries"
    if isinstance(value, YamlFloat):
        return value.text
    text = value if isinstance(value, str) else None
    if text is not None and len(text) > MAX_QUOTE:
        return repr(text[:MAX_QUOTE]) + f"… ({len(text)} characters)"
    return clip(repr(value))


class YamlFloat(float):
    """A float that remembers how it was written (`2.0`, `1.10`)."""

    text: str

    def __new__(cls, value: float, text: str) -> YamlFloat:
        made = super().__new__(cls, value)
        made.text = text
        return made

    def __getnewargs__(self) -> tuple[float, str]:      # copy and pickle keep the text
        return (float(self), self.text)


INT_TAG = "tag:yaml.org,2002:int"


def _too_long(node: yaml.Node) -> str | None:
    text = str(node.value)
    if node.tag == INT_TAG and len(text) > MAX_NUMBER_CHARS:
        return (f"a number of {len(text)} characters ({clip(text, 20)}) is longer than any a "
                f"topology holds (at most {MAX_NUMBER_CHARS})")
    return None


class _Loader(yaml.SafeLoader):
    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:  # type: ignore[override]
        # _walk has refused a longer one before anything is constructed; this is the backstop.
        problem = _too_long(node)
        if problem:
            raise yaml.constructor.ConstructorError(None, None, problem, node.start_mark)
        return int(super().construct_yaml_int(node))

    def construct_yaml_float(self, node: yaml.ScalarNode) -> float:  # type: ignore[override]
        text = str(node.value)
        return YamlFloat(super().construct_yaml_float(node), clip(text, MAX_NUMBER_CHARS))


_Loader.add_constructor(INT_TAG, _Loader.construct_yaml_int)
_Loader.add_constructor("tag:yaml.org,2002:float", _Loader.construct_yaml_float)


@dataclass
class Read:
    """What a YAML text holds: the data (None when it cannot be built), the lines, the problems."""

    data: Any = None
    lines: dict[Loc, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    too_long: bool = False          # a number too long to construct: nothing is built


def _render(loc: Loc) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _syntax_problem(exc: yaml.YAMLError) -> Problem:
    """The parser's own words, at the line it names, with the line of the construct it was
    reading when that construct began elsewhere ("while parsing a flow sequence")."""
    mark = getattr(exc, "problem_mark", None)
    context = getattr(exc, "context", None)
    context_mark = getattr(exc, "context_mark", None)
    reason = getattr(exc, "problem", None) or str(exc)
    kind = "YAML error" if isinstance(exc, yaml.constructor.ConstructorError) else \
        "YAML syntax error"
    message = f"{kind}: {reason}"
    if context and context_mark is not None:
        where = context_mark.line + 1
        if mark is None or mark.line != context_mark.line:
            message += f" ({context} that starts at line {where})"
        else:
            message += f" ({context})"
    line = mark.line + 1 if mark is not None else (context_mark.line + 1 if context_mark else None)
    return Problem("", clip(message, 300), line, "YAML")


def _walk(node: yaml.Node, loc: Loc, read: Read, seen: set[int]) -> None:
    """Lines of every path, and duplicate keys; each node is entered once (aliases share it)."""
    read.lines[loc] = node.start_mark.line + 1
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.ScalarNode) and _too_long(node):
        read.problems.append(Problem(_render(loc), str(_too_long(node)), read.lines[loc], "YAML"))
        read.too_long = True
    if isinstance(node, yaml.MappingNode):
        first: dict[str, int] = {}
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode):
                continue
            line = key.start_mark.line + 1
            if key.value in first and key.tag != "tag:yaml.org,2002:merge":
                read.problems.append(Problem(
                    _render(loc + (key.value,)),
                    f"key {quote(key.value)} is given twice in one mapping, at lines "
                    f"{first[key.value]} and {line}; YAML would keep only the last (merge the "
                    f"two, or remove one)", line, "YAML"))
            if key.value in first:
                # The last one is what YAML keeps: its lines replace the first one's.
                stale = loc + (key.value,)
                for path in [p for p in read.lines if p[:len(stale)] == stale]:
                    del read.lines[path]
            first.setdefault(key.value, line)
            _walk(value, loc + (key.value,), read, seen)
            read.lines[loc + (key.value,)] = line
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, loc + (index,), read, seen)


def _children(node: yaml.Node) -> Iterator[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield key
            yield value
    elif isinstance(node, yaml.SequenceNode):
        yield from node.value


def expanded_size(root: yaml.Node, limit: int = MAX_VALUES) -> int | None:
    """How many values the document holds once every alias is expanded, counted without
    expanding (each node once, its size remembered); None when an alias refers to a node that
    contains it. Counting stops a little past `limit`."""
    sizes: dict[int, int] = {}
    open_: set[int] = set()
    # Iterative post-order: PyYAML's nodes nest as deep as the text, deeper than Python's stack.
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            open_.discard(key)
            sizes[key] = min(limit + 1, 1 + sum(sizes[id(c)] for c in _children(node)))
            continue
        if key in sizes:
            continue
        if key in open_:
            return None
        open_.add(key)
        stack.append((node, True))
        for child in _children(node):
            if id(child) in open_:
                return None
            if id(child) not in sizes:
                stack.append((child, False))
    return sizes[id(root)]


def read_yaml(text: str) -> Read:
    """Parse one YAML document within the bounds above; problems instead of exceptions."""
    read = Read()
    if len(text) > MAX_BYTES:
        read.problems.append(Problem("", f"the file has {len(text)} characters; a topology has "
                                     f"at most {MAX_BYTES}", None, "FILE"))
        return read
    try:
        loader = _Loader(text)
    except yaml.reader.ReaderError as exc:
        line = text[:exc.position].count("\n") + 1
        read.problems.append(Problem("", f"YAML error: character #x{exc.character:04x} at line "
                                     f"{line} is not allowed in YAML (YAML 1.2 5.1)", line, "YAML"))
        return read
    try:
        root = loader.get_single_node()
        if root is None:
            return read
        _walk(root, (), read, set())
        if read.too_long:
            return read
        size = expanded_size(root)
        if size is None:
            read.problems.append(Problem("", "an alias refers to a value that contains it (a "
                                         "cycle); a topology never needs one", None, "YAML"))
            return read
        if size > MAX_VALUES:
            read.problems.append(Problem("", f"aliases expand this file to more than {MAX_VALUES} "
                                         f"values; a topology never needs that many (is an "
                                         f"alias repeated inside another?)", None, "YAML"))
            return read
        read.data = loader.construct_document(root)
    except yaml.YAMLError as exc:
        read.problems.append(_syntax_problem(exc))
    except RecursionError:
        # PyYAML's composer and constructor recurse once per nesting level.
        read.problems.append(Problem("", "YAML nested too deeply", None, "YAML"))
    finally:
        loader.dispose()
    return read
