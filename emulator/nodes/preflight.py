"""Before anything is created: every node's program exists for its role, and every user
configuration file exists and passes the program's own syntax check.

The user's file is the source of truth (issue: "the lab never rewrites it"), so the only thing
the lab may say about it before building is what the program itself says.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from emulator.core.errors import Problem, TopologyError
from emulator.nodes import registry
from emulator.plan.model import Role
from emulator.plan.resolve import config_path
from emulator.topology.intent import Topology
from emulator.topology.loader import Loc, line_at, yaml_path


@dataclass(frozen=True)
class _Declared:
    loc: Loc
    role: Role
    software: str
    config: str | None


def _declared(topo: Topology) -> Iterator[_Declared]:
    rs = topo.exchange.route_server
    yield _Declared(("exchange", "route-server"), Role.ROUTE_SERVER, rs.software, rs.config)
    for i, router in enumerate(topo.routers):
        yield _Declared(("routers", i), Role.PEER_ROUTER, router.software, router.config)
    for i, member in enumerate(topo.exchange.members):
        yield _Declared(("exchange", "members", i), Role.MEMBER, member.software, member.config)


def problems(topo: Topology, lines: dict[Loc, int], base_dir: Path) -> list[Problem]:
    """Every unknown program and every configuration its program rejects, with YAML path and
    line (and, for a syntax error, the program's own file and line in the message)."""
    found: list[Problem] = []
    for node in _declared(topo):
        choices = registry.softwares(node.role)
        if node.software not in choices:
            loc = node.loc + ("software",)
            found.append(Problem(yaml_path(loc), f"no {node.role.value} runs {node.software!r} "
                                 f"in this lab; choose one of: {', '.join(choices)}",
                                 line_at(lines, loc), "NODE-SOFTWARE"))
            continue
        if node.config is None:
            continue
        loc = node.loc + ("config",)
        path = Path(config_path(node.config, base_dir) or "")
        if not path.is_file():
            found.append(Problem(yaml_path(loc), f"configuration file {path} does not exist "
                                 f"(a path relative to the topology file)", line_at(lines, loc),
                                 "NODE-CONFIG"))
            continue
        kind = registry.kinds()[node.software]
        for problem in kind.check_config(path):
            found.append(Problem(yaml_path(loc), f"{node.software} rejects its configuration: "
                                 f"{problem.render()}", line_at(lines, loc), "NODE-CONFIG"))
    return found


def check(topo: Topology, lines: dict[Loc, int], source: str | Path) -> None:
    """Raise TopologyError (exit 2 at the CLI) with every problem found; nothing is created."""
    found = problems(topo, lines, Path(source).resolve().parent)
    if found:
        raise TopologyError(str(source), found)
