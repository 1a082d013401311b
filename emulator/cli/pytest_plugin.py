"""pytest plugin: regression tests against a maps-lab lab in a few lines.

    import pytest
    pytestmark = pytest.mark.mapslab(topology="topologies/seattle.yaml", lab="regress")

    def test_mesh(maps_lab, maps_check):
        maps_check("mesh-formed")
        assert maps_lab.plan.lags

The lab comes up once per module and is always removed afterwards, pass or fail; `--keep-lab`
leaves it up for debugging (`mapslab status NAME`, `mapslab down NAME`). JUnit XML comes from
pytest's own `--junitxml=FILE`.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mapslab")
    group.addoption("--keep-lab", action="store_true", default=False,
                    help="leave maps-lab labs up after the tests (remove with `mapslab down`)")
    group.addoption("--mapslab-topology", default=None,
                    help="topology for tests that do not name one with @pytest.mark.mapslab")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "mapslab(topology, lab=None): the topology (and lab name) "
                                       "the maps_lab fixture brings up")


def _topology_copy(source: Path, lab: str, directory: Path) -> Path:
    text = source.read_text()
    if re.search(r"^lab:", text, flags=re.M):
        text = re.sub(r"^lab: .*$", f"lab: {lab}", text, count=1, flags=re.M)
    else:
        text = f"lab: {lab}\n" + text
    path = directory / f"{lab}.yaml"
    path.write_text(text)
    return path


def refuse_running(name: str, root: Path | None = None) -> None:
    """A lab of that name that is up belongs to someone: never remove it for a test's fixture."""
    from emulator.core.labdir import LabDir
    from emulator.runtime.netns import lab_namespaces
    if LabDir(name, root).exists() or (root is None and lab_namespaces(name)):
        pytest.fail(f"a lab named {name!r} is already up; the maps_lab fixture will not remove "
                    f"it: `mapslab down {name}` if it is yours, or give the module another lab "
                    f"name (@pytest.mark.mapslab(lab=...))", pytrace=False)


@pytest.fixture(scope="module")
def maps_lab(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """A running lab for the module's tests (emulator.lab.Lab)."""
    from emulator.lab import lifecycle as lab_module
    from emulator.topology.loader import load
    marker = request.node.get_closest_marker("mapslab")
    topology = (marker.kwargs.get("topology") if marker else None) or \
        request.config.getoption("--mapslab-topology")
    if not topology:
        pytest.fail("maps_lab needs a topology: @pytest.mark.mapslab(topology=...) or "
                    "--mapslab-topology", pytrace=False)
    path = Path(topology)
    if not path.is_absolute():
        path = Path(request.config.rootpath) / path
    name = (marker.kwargs.get("lab") if marker else None) or load(path).lab
    path = _topology_copy(path, name, tmp_path_factory.mktemp(f"mapslab-{name}"))
    refuse_running(name)
    running = lab_module.up(path)
    try:
        yield running
    finally:
        running.close()
        if not request.config.getoption("--keep-lab"):
            lab_module.down(name)


@pytest.fixture
def maps_check(maps_lab):
    """Run a named check of emulator.judge.checks and fail with its evidence if it does not pass."""
    from emulator.judge import checks

    def run(name: str):
        verdict = checks.CHECKS[name](maps_lab)
        if not verdict.passed:
            pytest.fail(f"{verdict.check}: {verdict.summary}\n  " + "\n  ".join(verdict.evidence),
                        pytrace=False)
        return verdict
    return run
