"""Runtimes are found by name, so that nothing above the runtime stage branches on one."""
from __future__ import annotations

import pytest

from emulator.core.errors import RuntimeUnavailable
from emulator.runtime import registry
from emulator.runtime.containerlab.deploy import ContainerlabDeployment
from emulator.runtime.containerlab.host import ContainerlabRuntime


def test_both_runtimes_are_registered_netns_first():
    assert registry.names() == ["netns", "containerlab"]
    assert registry.names(deploying=True) == ["containerlab"]


def test_containerlab_opens_a_lab_and_deploys_plans():
    kind = registry.get("containerlab")
    runtime = kind.open("seattle")
    assert isinstance(runtime, ContainerlabRuntime) and runtime.lab == "seattle"
    assert isinstance(kind.deployment(), ContainerlabDeployment)


def test_netns_is_built_by_the_lab_controller():
    kind = registry.get("netns")
    assert kind.deployment is None
    assert type(kind.open("seattle")).__name__ == "NetnsRuntime"


def test_an_unknown_runtime_names_the_known_ones():
    with pytest.raises(RuntimeUnavailable, match="runtimes: netns, containerlab"):
        registry.get("vagrant")


def test_the_deployment_parses_overrides_relative_to_their_file(tmp_path):
    path = tmp_path / "overrides.yaml"
    path.write_text("sea-pr1: {kind: arista_ceos, image: 'ceos:4.32.0F', "
                    "startup-config: pr1.cfg}\n")
    parsed = registry.get("containerlab").deployment().overrides(path)
    assert parsed["sea-pr1"].startup_config == tmp_path / "pr1.cfg"


PROTOCOL = ("create_node", "create_veth", "configure", "run", "spawn", "destroy")


@pytest.mark.parametrize("name", ["netns", "containerlab", "fake"])
def test_every_runtime_implements_the_one_protocol(name):
    """The netns runtime, containerlab's and the recording fake: the same calls, alike."""
    import inspect
    from emulator.runtime.base import Runtime
    from emulator.runtime.fake import FakeRuntime
    cls = FakeRuntime if name == "fake" else type(registry.get(name).open("seattle"))
    for method in PROTOCOL:
        wanted = list(inspect.signature(getattr(Runtime, method)).parameters)
        assert list(inspect.signature(getattr(cls, method)).parameters) == wanted, (name, method)
