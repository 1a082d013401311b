"""Bring-up per peer-router program: the default lab beside the users' own routers.

Run as root (`make bench` runs it after bench/run.py). For each topology, N runs of `mapslab up`
timed from launch to every session Established, to `lab is up` and to `up` returning, then
`mapslab down`; prints a Markdown table for BENCHMARKS.md.
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.run import bring_up, down, table  # noqa: E402

# (label, topology file, software of sea-pr1 / sea-pr2 to set, or None to keep the file's)
CASES = (
    ("default (FRR, lab-made configs)", "topologies/seattle.yaml", None),
    ("own routers: BIRD + OpenBGPD, users' configs", "topologies/seattle-own-routers.yaml", None),
    ("own routers: GoBGP, users' config", "topologies/seattle-gobgp.yaml", None),
    ("BIRD, lab-made configs", "topologies/seattle.yaml", "bird"),
    ("OpenBGPD, lab-made configs", "topologies/seattle.yaml", "openbgpd"),
    ("GoBGP, lab-made configs", "topologies/seattle.yaml", "gobgp"),
)


def _copy(source: Path, lab: str, software: str | None, workdir: Path) -> Path:
    text = source.read_text()
    text = re.sub(r"^lab: .*$", f"lab: {lab}", text, count=1, flags=re.M)
    text = re.sub(r"config: (\S+)", lambda m: f"config: {(source.parent / m.group(1)).resolve()}",
                  text)
    if software:
        text = re.sub(r"^(    software:) frr$", rf"\1 {software}", text, flags=re.M)
    path = workdir / f"{lab}.yaml"
    path.write_text(text)
    return path


def _spread(values: list[float | None]) -> str:
    found = [v for v in values if v is not None]
    if not found:
        return "-"
    return f"{min(found):.2f} / {statistics.median(found):.2f} / {max(found):.2f}"


def main(argv: list[str] | None = None) -> int:
    top = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    top.add_argument("--runs", type=int, default=3)
    args = top.parse_args(argv)
    if os.geteuid() != 0:
        top.error("the bench brings labs up: run it as root")
    rows = []
    with tempfile.TemporaryDirectory(prefix="mapslab-bench-") as tmp:
        for index, (label, topology, software) in enumerate(CASES):
            lab = f"benchp{index}"
            path = _copy(ROOT / topology, lab, software, Path(tmp))
            runs = []
            for _ in range(args.runs):
                down(lab)
                runs.append(bring_up(path))
                down(lab)
            rows.append([label, _spread([r.established for r in runs]),
                         _spread([r.up for r in runs]), _spread([r.exited for r in runs])])
    print("## Bring-up per router program\n")
    print(f"One location (9 nodes, 2 LAGs, 18 sessions); seconds, min / median / max of "
          f"{args.runs} runs (`bench/programs.py`).\n")
    print(table(["peer routers", "to Established (s)", "to lab up (s)", "`up` returned (s)"],
                rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
