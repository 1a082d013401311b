"""The JSON schemas of the commands' `--format json` outputs, shipped in the package
(emulator/cli/schemas/<command>.json)."""
from __future__ import annotations

import json
from importlib import resources

NAMES = ("check", "peering", "asn-register", "events", "events-show", "timeline", "probe")


def schema(name: str) -> dict:
    """The schema of one command's JSON output, by its name in NAMES."""
    return json.loads((resources.files("emulator.cli") / "schemas" / f"{name}.json").read_text())
