"""The user's own peer router under containerlab: another image, or another containerlab kind
(a NOS), given per peer router (docs/containerlab.md, "Replacing a peer router with your own")."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulator.core.errors import PlanError
from emulator.plan.model import Plan, Role


@dataclass(frozen=True)
class NodeOverride:
    """The user's own peer router: another image, or another containerlab kind (a NOS).

    kind            containerlab kind (default linux); any other kind is the user's to configure
    image           container image (needed with any kind but linux)
    startup_config  a config file for a NOS kind; copied to nodes/<node>/startup/ and referenced
    interfaces      plan interface name → the NOS's name in link endpoints (cEOS eth1, SR Linux
                    e1-1, ...); unnamed ones keep the plan's name
    A linux node with only another image keeps maps-lab's binds and start.sh (the image must have
    iproute2 and the node's router program where maps-lab's image has it); otherwise the node's
    own files under nodes/<node>/ are the reference its configuration must match, and are not
    mounted.
    """

    kind: str | None = None
    image: str | None = None
    startup_config: Path | None = None
    interfaces: Mapping[str, str] = field(default_factory=dict)

    @property
    def runs_our_files(self) -> bool:
        return self.kind in (None, "linux") and self.startup_config is None


_KEYS = {"kind", "image", "startup-config", "interfaces"}


def parse_overrides(raw: Mapping[str, Any], base: Path) -> dict[str, NodeOverride]:
    """YAML-shaped overrides ({node: {kind, image, startup-config, interfaces}}) → typed ones.

    Relative startup-config paths are taken relative to `base`. Every problem is collected.
    """
    found: dict[str, NodeOverride] = {}
    problems: list[str] = []
    for name, entry in raw.items():
        if not isinstance(entry, Mapping):
            problems.append(f"{name}: expected a mapping of {sorted(_KEYS)}")
            continue
        unknown = set(entry) - _KEYS
        if unknown:
            problems.append(f"{name}: unknown field(s) {sorted(unknown)}")
        interfaces = entry.get("interfaces") or {}
        if not isinstance(interfaces, Mapping):
            problems.append(f"{name}.interfaces: expected plan-name: nos-name pairs")
            interfaces = {}
        startup = entry.get("startup-config")
        found[str(name)] = NodeOverride(
            entry.get("kind"), entry.get("image"),
            None if startup is None else (base / str(startup)),
            {str(k): str(v) for k, v in interfaces.items()})
    if problems:
        raise PlanError("containerlab overrides: " + "; ".join(problems))
    return found


def check_overrides(plan: Plan, overrides: Mapping[str, NodeOverride]) -> None:
    """Refuse, with every reason at once, overrides that the plan cannot take."""
    routers = {n.name for n in plan.nodes_with(Role.PEER_ROUTER)}
    problems = []
    for name, override in overrides.items():
        if name not in routers:
            problems.append(f"{name!r} is not a peer router of lab {plan.lab!r} "
                            f"(peer routers: {', '.join(sorted(routers))})")
            continue
        if override.kind not in (None, "linux") and not override.image:
            problems.append(f"{name}: kind {override.kind} needs an image")
        if override.kind in (None, "linux") and override.startup_config is not None:
            problems.append(f"{name}: containerlab applies startup-config to NOS kinds only; "
                            f"a linux node is configured by binds and exec")
        if override.startup_config is not None and not Path(override.startup_config).is_file():
            problems.append(f"{name}: startup-config {override.startup_config} is not a file")
        known = {ifname for lag in plan.lags_of(name) for ifname in lag.member_ifnames(name)}
        port = plan.lan_port(name)
        known |= {port.ifname} if port else set()
        for ifname in override.interfaces:
            if ifname not in known:
                problems.append(f"{name}: interface {ifname!r} is not one of {sorted(known)}")
        renamed = list(override.interfaces.values())
        if len(set(renamed)) != len(renamed):
            problems.append(f"{name}: two interfaces renamed alike: {sorted(renamed)}")
    if problems:
        raise PlanError("containerlab overrides: " + "; ".join(problems))


def endpoint(node: str, ifname: str, overrides: Mapping[str, NodeOverride]) -> str:
    """A link endpoint "node:ifname", with the interface named as the node's kind expects."""
    override = overrides.get(node)
    return f"{node}:{override.interfaces.get(ifname, ifname) if override else ifname}"
