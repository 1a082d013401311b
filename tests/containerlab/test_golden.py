"""Golden files: the seattle lab rendered for containerlab, every file beside its expected text.

Regenerate with MAPSLAB_REGOLD=1 after an intended change, and read the diff.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import regold

from emulator.runtime import containerlab
from tests.containerlab.conftest import HERE

GOLDEN = HERE / "golden" / "seattle"


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


@pytest.fixture(scope="module")
def files(seattle, tmp_path_factory) -> dict[str, bytes]:
    out = tmp_path_factory.mktemp("render") / "seattle"
    containerlab.render(seattle, out)
    if regold():
        shutil.rmtree(GOLDEN, ignore_errors=True)
        shutil.copytree(out, GOLDEN)
    return _tree(out)


def test_same_files_as_golden(files):
    assert sorted(files) == sorted(_tree(GOLDEN)), "MAPSLAB_REGOLD=1 rewrites the golden files"


@pytest.mark.parametrize("name", sorted(_tree(GOLDEN)) if GOLDEN.exists() else [])
def test_golden(files, name):
    assert files.get(name) == (GOLDEN / name).read_bytes(), \
        f"{name} differs from {GOLDEN / name} (MAPSLAB_REGOLD=1 rewrites it)"


def test_rendering_is_deterministic_and_machine_free(seattle, tmp_path: Path):
    """Two renderings in different places are identical and name no path of this machine."""
    one, two = tmp_path / "a" / "seattle", tmp_path / "b" / "elsewhere"
    containerlab.render(seattle, one)
    containerlab.render(seattle, two)
    assert _tree(one) == _tree(two)
    for name, content in _tree(one).items():
        text = content.decode()
        for local in (str(tmp_path), str(Path.cwd()), str(Path.home()), "/work/", "/tmp/"):
            assert local not in text, f"{name} names {local}"


def test_rerender_replaces_a_previous_rendering(seattle, tmp_path: Path):
    out = tmp_path / "seattle"
    containerlab.render(seattle, out)
    stale = out / "nodes" / "gone" / "start.sh"
    stale.parent.mkdir()
    stale.write_text("old\n")
    containerlab.render(seattle, out)
    assert not stale.exists()
