"""What the command modules share: the lab a LAB argument names, progress lines, `--format`."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from emulator.core import names
from emulator.core.errors import UsageError


def progress(line: str) -> None:
    """Progress lines; a reader that went away (`| head`) must not abort a lab half-built."""
    try:
        print(line, flush=True)
    except BrokenPipeError:
        pass


def lab_name(value: str) -> str:
    problem = names.lab_name_problem(value)
    if problem:
        raise UsageError(problem)
    return value


def lab_of(topology_or_name: str) -> str:
    """The lab a LAB argument names: a lab's name, or the topology file it was built from."""
    path = Path(topology_or_name)
    if path.suffix in (".yaml", ".yml") or path.exists():
        from emulator.topology.loader import load
        return load(path).lab
    return lab_name(topology_or_name)


def positive(kind: type, name: str):
    """An argparse type: a number greater than zero, or a usage error naming the argument."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a number, not {text!r}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"{name} must be greater than 0, not {text}")
        return value
    return parse


def lab_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("lab", help="lab name or its topology file")


def format_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--format", choices=("table", "json"), default="table",
                   help="table (default) or JSON (its schema: emulator/cli/schemas/)")


def print_json(data: object) -> None:
    print(json.dumps(data, indent=2))
