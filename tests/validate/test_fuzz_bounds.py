"""No input makes the loader or `mapslab validate` hang, crash or swell: property tests of the
inputs that once did (aliases, huge numbers, duplicate keys, non-UTF-8 bytes), each example run
under a memory bound (tracemalloc's peak) and a time bound (a hang guard, SIGALRM), and the worst
cases once more in a child process whose address space is capped (resource.setrlimit).

The bounds are limits that only a hang or an unbounded expansion can reach, not a measure of
speed: a correct run stays far below them.
"""
from __future__ import annotations

import json
import re
import resource
import signal
import subprocess
import sys
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from emulator.topology.loader import Loaded, read, read_file
from emulator.topology.validate import render_json, render_text, validate
from emulator.topology.yamlread import MAX_VALUES
from tests.conftest import ROOT

SEATTLE = (ROOT / "topologies" / "seattle.yaml").read_text(encoding="utf-8")
SEATTLE_RAW = yaml.safe_load(SEATTLE)
PEAK_BYTES = 64 * 1024 * 1024       # a topology of this size needs well under 5 MB
HANG_SECONDS = 30                   # a hang guard per example, not a speed limit
CHILD_ADDRESS_SPACE = 1024 * 1024 * 1024
BOUNDED = settings(max_examples=25, deadline=None, database=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                          HealthCheck.function_scoped_fixture])


class Hang(Exception):
    pass


def _alarm(signum: int, frame: object) -> None:
    raise Hang(f"no answer within {HANG_SECONDS} s")


@contextmanager
def bounded() -> Iterator[None]:
    """Run the block with a hang guard, then check the peak of what it allocated."""
    previous = signal.signal(signal.SIGALRM, _alarm)
    tracemalloc.start()
    signal.alarm(HANG_SECONDS)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert peak < PEAK_BYTES, f"peak allocation {peak} bytes"


def every_stage(loaded: Loaded) -> None:
    """What `mapslab validate` runs after the loader: rules, reports, and the plan when it can."""
    for problem in loaded.problems:
        assert len(problem.render(loaded.source)) < 1000
    if loaded.topo is None:
        return
    report = validate(loaded.topo, loaded.lines)
    assert all(len(f.found) < 500 for f in report.findings)
    render_text(report, loaded.source)
    json.dumps(render_json(report, loaded.source))
    if loaded.exact and loaded.references_ok:
        from emulator.plan.resolve import resolve
        from emulator.core.errors import PlanError
        try:
            resolve(loaded.topo)
        except PlanError:
            pass


def checked(text: str) -> Loaded:
    with bounded():
        loaded = read(text, "fuzz.yaml")
        every_stage(loaded)
    return loaded


def leaf_lines() -> list[int]:
    """Indexes of the lines of the example that hold `key: scalar` (not list items' first keys)."""
    return [i for i, line in enumerate(SEATTLE.splitlines())
            if re.match(r"^\s*[a-z-]+: \S", line)]


def with_value(index: int, value: str) -> str:
    lines = SEATTLE.splitlines(keepends=True)
    key = lines[index].split(":", 1)[0]
    lines[index] = f"{key}: {value}\n"
    return "".join(lines)


# ---- aliases ----

@st.composite
def alias_files(draw: st.DrawFn) -> tuple[str, int]:
    """Anchors nested `levels` deep with `fan_out` aliases each, one of them used for a value;
    returns the text and the number of values the alias expands to."""
    levels = draw(st.integers(1, 9))
    fan_out = draw(st.integers(1, 12))
    leaf = draw(st.sampled_from(["x", "1", "{a: 1}", "'198.51.100.0/24'", "[]"]))
    out = f"a0: &a0 [{', '.join([leaf] * fan_out)}]\n"
    for level in range(1, levels):
        out += f"a{level}: &a{level} [{', '.join([f'*a{level - 1}'] * fan_out)}]\n"
    index = draw(st.sampled_from(leaf_lines()))
    weight = {"x": 1, "1": 1, "{a: 1}": 3, "'198.51.100.0/24'": 1, "[]": 1}[leaf]
    anchors = [1 + fan_out * weight]        # values of each anchor once expanded
    for _ in range(1, levels):
        anchors.append(1 + fan_out * anchors[-1])
    # Each anchor under its key (the key a value too), and the last one once more where used.
    size = sum(anchors) + levels + anchors[-1]
    return out + with_value(index, f"*a{levels - 1}"), size


@BOUNDED
@given(alias_files())
def test_aliases_are_bounded(case: tuple[str, int]):
    text, size = case
    loaded = checked(text)
    refused = [p for p in loaded.problems if "aliases expand this file" in p.message]
    # The example's own values (under 400) decide only within that margin of the bound.
    if size > MAX_VALUES:
        assert refused
    if size < MAX_VALUES - 400:
        assert not refused


@BOUNDED
@given(st.integers(0, 30), st.sampled_from(leaf_lines()))
def test_an_alias_cycle_anywhere_is_refused(depth: int, index: int):
    value = "[" * (depth + 1) + "*c" + "]" * (depth + 1)
    loaded = checked(f"c: &c {value}\n" + with_value(index, "*c"))
    assert any("a cycle" in p.message for p in loaded.problems)


# ---- huge numbers ----

NUMBERS = st.one_of(
    st.integers(1, 6_000).map(lambda n: "9" * n),
    st.integers(1, 6_000).map(lambda n: "-" + "1" * n),
    st.integers(1, 5_000).map(lambda n: "0x" + "f" * n),
    st.integers(1, 5_000).map(lambda n: "0b" + "1" * n),
    st.integers(1, 2_000).map(lambda n: ":".join(["59"] * n)),      # YAML 1.1 base 60
    st.integers(1, 5_000).map(lambda n: "1_" * n + "0"),
    st.integers(1, 6_000).map(lambda n: "1" * n + ".5"),
    st.integers(1, 6_000).map(lambda n: "1e" + "9" * n),
)


@BOUNDED
@given(NUMBERS, st.sampled_from(leaf_lines()))
def test_huge_numbers_anywhere_end_in_problems(number: str, index: int):
    loaded = checked(with_value(index, number))
    assert loaded.problems or loaded.topo is not None


@BOUNDED
@given(st.integers(41, 6_000), st.sampled_from(leaf_lines()))
def test_a_number_past_the_bound_is_named_at_its_line(digits: int, index: int):
    loaded = checked(with_value(index, "7" * digits))
    assert [(p.rule, p.line) for p in loaded.problems] == [("YAML", index + 1)]
    assert f"a number of {digits} characters" in loaded.problems[0].message


@BOUNDED
@given(st.integers(1, 200_000), st.sampled_from(leaf_lines()))
def test_a_long_value_anywhere_is_quoted_within_bounds(length: int, index: int):
    """Names and texts the models leave free (a connection's location, a SKU) are quoted bounded
    in every message that names them."""
    checked(with_value(index, "z" * length))


# ---- duplicate keys ----

@BOUNDED
@given(st.sampled_from(leaf_lines()), st.sampled_from(["same", "other", "block"]))
def test_a_key_given_twice_is_named_with_both_lines(index: int, how: str):
    lines = SEATTLE.splitlines(keepends=True)
    line = lines[index]
    if how == "other":
        line = line.split(":", 1)[0] + ": other\n"
    elif how == "block":
        line = line.split(":", 1)[0] + ":\n"
    text = "".join(lines[:index + 1] + [line] + lines[index + 1:])
    key = lines[index].split(":", 1)[0].strip()
    loaded = checked(text)
    twice = [p for p in loaded.problems if "given twice" in p.message]
    assert [(p.line, p.rule) for p in twice] == [(index + 2, "YAML")]
    assert f"key {key!r} is given twice in one mapping, at lines {index + 1} and {index + 2}" \
        in twice[0].message


# ---- bytes that are not UTF-8 ----

@BOUNDED
@given(st.binary(min_size=1, max_size=8), st.integers(0, len(SEATTLE.encode())))
def test_any_bytes_anywhere_end_in_a_report(tmp_path_factory, junk: bytes, at: int):
    data = SEATTLE.encode()
    data = data[:at] + junk + data[at:]
    path = tmp_path_factory.mktemp("bytes") / "t.yaml"
    path.write_bytes(data)
    with bounded():
        loaded = read_file(path)
        every_stage(loaded)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        assert [(p.rule, p.line) for p in loaded.problems] == [
            ("FILE", data[:exc.start].count(b"\n") + 1)]


# ---- the worst cases under a hard cap, as `mapslab validate` runs them ----

WORST = {
    "alias bomb, 10**9 values": "".join(
        f"a{k}: &a{k} [{', '.join(['*a%d' % (k - 1) if k else 'lol'] * 10)}]\n" for k in range(9))
    + SEATTLE.replace("lacp: active", "lacp: *a8", 1),
    "a number of 100000 digits": SEATTLE.replace("64500", "9" * 100_000, 1),
    "a key of 300000 characters": SEATTLE + "x" * 300_000 + ": 1\n",
    "a value of 300000 characters": SEATTLE.replace("Premium Free", "P" * 300_000),
    "nesting 20000 deep": SEATTLE + "x: " + "[" * 20_000 + "]" * 20_000 + "\n",
}


def _capped() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (CHILD_ADDRESS_SPACE, CHILD_ADDRESS_SPACE))


@pytest.mark.parametrize("name", WORST)
def test_worst_cases_in_a_capped_process(name: str, tmp_path: Path):
    path = tmp_path / "worst.yaml"
    path.write_text(WORST[name], encoding="utf-8")
    code = ("import argparse, sys; from emulator.cli.validate_cmd import cmd_validate; "
            "sys.exit(cmd_validate(argparse.Namespace(topology=sys.argv[1], against=None, "
            "format='json')))")
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                          text=True, timeout=120, cwd=ROOT, preexec_fn=_capped)
    assert "Traceback" not in done.stderr and "MemoryError" not in done.stderr, done.stderr[-2000:]
    assert done.returncode == 2
    data = json.loads(done.stdout)
    assert data["ok"] is False and data["errors"] >= 1
    assert len(done.stdout) < 20_000
