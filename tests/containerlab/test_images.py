"""Lint-level checks of the images' Dockerfiles (no Docker needed)."""
from __future__ import annotations

import ast
import re
import shlex
import sys
from pathlib import Path

import pytest

from emulator.runtime.containerlab.images import DOCKERIGNORE, IMAGES, Image
from tests.conftest import ROOT

DOCKERFILES = sorted((ROOT / "lab" / "images").glob("*/Dockerfile"))
SHIPPED = [i for i in IMAGES.values() if not i.rendered]
RENDERED = sorted(key for key, i in IMAGES.items() if i.rendered)


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    found, pending = [], ""
    for line in path.read_text().splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        text = pending + line
        pending = ""
        word, _, rest = text.strip().partition(" ")
        found.append((word.upper(), rest.strip()))
    return found


def image_of(path: Path) -> Image:
    return next(i for i in SHIPPED if ROOT / i.dockerfile == path)


def test_every_image_has_a_dockerfile_and_every_dockerfile_an_image():
    assert sorted(ROOT / i.dockerfile for i in SHIPPED) == DOCKERFILES


@pytest.fixture(scope="module")
def rendered_dockerfiles(tmp_path_factory) -> dict[str, Path]:
    """Each rendered image's Dockerfile and .dockerignore, written as render() writes them."""
    out = tmp_path_factory.mktemp("images")
    paths = {}
    for key in RENDERED:
        path = out / IMAGES[key].dockerfile
        path.parent.mkdir(parents=True)
        path.write_text(IMAGES[key].dockerfile_text())
        path.with_name("Dockerfile.dockerignore").write_text(DOCKERIGNORE)
        paths[key] = path
    return paths


@pytest.mark.parametrize("key", RENDERED)
def test_rendered_images_pass_the_same_checks(key, rendered_dockerfiles):
    path = rendered_dockerfiles[key]
    image = IMAGES[key]
    steps = instructions(path)
    assert steps[0] == ("FROM", "debian:bookworm-slim")
    installs = [rest for word, rest in steps if word == "RUN" and "apt-get install" in rest]
    assert installs and all("apt-get update" in r and " -y" in r and "--no-install-recommends"
                            in r for r in installs)
    assert all(package in installs[0].split() for package in image.packages)
    # Debian's python3 runs the node agent and fib_sync: the package, standard library only.
    assert ("COPY", "emulator/ /opt/maps-lab/src/emulator/") in steps
    assert (ROOT / image.context / "emulator").is_dir()
    assert " ".join(image.build_argv()) in path.read_text()
    ignore = path.with_name("Dockerfile.dockerignore").read_text().splitlines()
    assert "*" in ignore and "!emulator/" in ignore


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.parent.name)
def test_from_comes_first_with_a_pinned_base(path: Path):
    steps = instructions(path)
    assert steps[0][0] == "FROM", f"{path}: first instruction is {steps[0][0]}"
    deliberate = "latest base: deliberate" in path.read_text()
    for word, rest in steps:
        if word == "FROM":
            base = rest.split()[0]
            tag = base.rsplit(":", 1)[1] if ":" in base.split("/")[-1] else ""
            assert deliberate or tag not in ("", "latest"), f"{path}: base {base} is not pinned"


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.parent.name)
def test_header_build_command_matches_the_image_table(path: Path):
    assert " ".join(image_of(path).build_argv()) in " ".join(
        l.lstrip("# ").strip() for l in path.read_text().splitlines() if l.startswith("#"))


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.parent.name)
def test_apt_installs_update_in_the_same_layer(path: Path):
    for word, rest in instructions(path):
        if word == "RUN" and "apt-get install" in rest:
            assert "apt-get update" in rest and " -y" in rest, rest
            assert "--no-install-recommends" in rest, rest


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.parent.name)
def test_every_copy_source_exists_in_the_build_context(path: Path):
    context = ROOT / image_of(path).context
    ignore = path.with_name("Dockerfile.dockerignore")
    patterns = ignore.read_text().splitlines() if ignore.exists() else []
    for word, rest in instructions(path):
        if word in ("COPY", "ADD"):
            args = [a for a in shlex.split(rest) if not a.startswith("--")]
            for source in args[:-1]:
                assert (context / source).exists(), f"{path}: {source} not in {context}"
                if "*" in patterns:      # everything ignored: the source must be let back in
                    assert f"!{source.rstrip('/')}/" in patterns or f"!{source}" in patterns, \
                        f"{path}: {source} is excluded by {ignore.name}"


def _pins() -> dict[str, str]:
    text = (ROOT / "pyproject.toml").read_text()
    return dict(re.findall(r'"([A-Za-z0-9_.-]+)==([^"]+)"', text))


def test_edge_image_pins_exabgp_and_the_agents_imports_as_pyproject_does():
    path = ROOT / IMAGES["exabgp"].dockerfile
    installs = " ".join(rest for word, rest in instructions(path)
                        if word == "RUN" and "pip install" in rest)
    requested = re.findall(r"\b([A-Za-z0-9_.-]+)==(\S+)", installs)
    assert ("exabgp", "5.0.15") in requested
    pins = _pins()
    for name, version in requested:
        assert pins.get(name) == version, f"{name}=={version} but pyproject pins {pins.get(name)}"
    words = installs.split("pip install", 1)[1].split("&&")[0].split()
    assert all("==" in w for w in words if not w.startswith("-")), f"unpinned: {words}"
    # Whatever the agent imports from outside the standard library must be installed.
    imported = set()
    for source in (ROOT / "emulator" / "edge").glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Import):
                imported |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imported.add(node.module.split(".")[0])
    third_party = imported - set(sys.stdlib_module_names) - {"emulator", "__future__"}
    assert third_party <= {name for name, _ in requested}, third_party


def test_the_docs_give_the_same_build_commands():
    docs = " ".join((ROOT / "docs" / "containerlab.md").read_text().split())
    for image in IMAGES.values():
        assert " ".join(image.build_argv()) in docs, image.name
