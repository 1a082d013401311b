"""A deployed containerlab lab, recorded on this host and attached again: what `mapslab status`,
`check` and `test` read it through, all of it by `docker exec` in the nodes' containers.

`mapslab up --runtime containerlab` records the lab in its directory on this host (LabDir), as
the embedded runtime does, before anything is deployed:

  state.json          runtime "containerlab", the rendered topology file, LAG driver kernel-bond
  plan.json           the plan as deployed (emulator.plan.planfile)
  containerlab.json   the rendered topology file and the folder holding nodes/<node>/
  events.jsonl        the controller's own events (lab-created)

The rest stays in the containers and is read there: a node mounts only its rendered folder, and
read-only; its run state is the container's own (emulator.runtime.containerlab.layout):

  /var/lib/maps-lab/events.jsonl              an edge's timeline (node agent, edge agents)
  /var/lib/maps-lab/<lag ifname>/routes.json  an edge agent's routes, each with its verdict
  /proc/net/bonding/<bond>                    each LAG end (emulator.runtime.containerlab.bonds)
  a router program's `d`                      its sockets, read through its node kind

So the attached lab's node directories are the ones in the containers (`node_dir`), its host is
`docker exec` (DockerHost), and its timeline joins the controller's events with the edges'.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emulator.core.errors import LabStateError
from emulator.core.labdir import LabDir, LabState
from emulator.nodes.base import Host, run_quietly
from emulator.plan.model import Node, Plan, Role
from emulator.runtime.containerlab import programs
from emulator.plan import planfile
from emulator.runtime.containerlab.bonds import DockerBondDriver
from emulator.runtime.containerlab.host import ContainerlabRuntime, Runner, run_local
from emulator.runtime.containerlab.layout import EVENTS_FILE, RUNTIME, STATE_DIR

PLAN_FILE = planfile.FILE_NAME
RECORD_FILE = "containerlab.json"


@dataclass(frozen=True)
class Deployed:
    """Where a deployed lab's rendering is on this host."""

    topology_file: Path            # <out_dir>/<lab>.clab.yml
    out_dir: Path                  # holds nodes/<node>/, each node's files

    @classmethod
    def read(cls, labdir: LabDir) -> Deployed:
        try:
            data = json.loads((labdir.path / RECORD_FILE).read_text())
            return cls(Path(data["topology_file"]), Path(data["out_dir"]))
        except (OSError, ValueError, KeyError) as exc:
            raise LabStateError(f"cannot read {labdir.path / RECORD_FILE}: {exc}") from None


# --- the record ------------------------------------------------------------------------------

def claim(labdir: LabDir, plan: Plan, out_dir: Path) -> LabState:
    """Record the lab before it is deployed, so that `down` finds it whatever happens next. A lab
    of the same name on another runtime is refused; one of ours is being deployed again."""
    if labdir.exists():
        found = labdir.read_state()
        if found.runtime != RUNTIME:
            raise LabStateError(f"a lab named {plan.lab!r} is already up on the {found.runtime} "
                                f"runtime: run `mapslab down {plan.lab}` first")
    out_dir = Path(out_dir).resolve()
    deployed = Deployed(out_dir / f"{plan.lab}.clab.yml", out_dir)
    state = LabState(plan.lab, str(deployed.topology_file), RUNTIME,
                     lag_driver=DockerBondDriver.name)
    labdir.write_state(state)
    (labdir.path / PLAN_FILE).write_text(json.dumps(planfile.to_dict(plan), indent=2) + "\n")
    (labdir.path / RECORD_FILE).write_text(json.dumps(
        {"topology_file": str(deployed.topology_file), "out_dir": str(deployed.out_dir)},
        indent=2) + "\n")
    return state


def recorded_plan(labdir: LabDir) -> Plan:
    """The plan the lab was deployed with (not re-resolved: the topology may have changed)."""
    try:
        return planfile.from_dict(json.loads((labdir.path / PLAN_FILE).read_text()))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise LabStateError(f"cannot read {labdir.path / PLAN_FILE}: {exc}") from None


def forget(lab: str) -> bool:
    """Remove the record of a containerlab lab (never another runtime's); whether there was one."""
    labdir = LabDir(lab)
    if not labdir.exists():
        return False
    try:
        ours = labdir.read_state().runtime == RUNTIME
    except LabStateError:
        ours = (labdir.path / RECORD_FILE).exists()
    if ours:
        labdir.remove()
    return ours


# --- what is read in the containers ----------------------------------------------------------

def node_dir(node: Node) -> Path:
    """The node's directory as its programs see it in its container: a router program's `d`
    (sockets, pid files, logs), else the run state (an edge's <lag ifname>/routes.json)."""
    if programs.runs_program(node):
        program, _ = programs.program_of(node)
        return Path(program.run_dir)
    return Path(STATE_DIR)


def edge_event_records(plan: Plan, host: Host) -> list[dict[str, Any]]:
    """The edges' timelines as written in their containers (node agent, edge agents); a line
    that is not JSON (a write cut short) is left out, as the timeline's readers expect."""
    found = []
    for node in plan.nodes_with(Role.EDGE):
        for line in (run_quietly(host, node.name, ["cat", EVENTS_FILE]) or "").splitlines():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                found.append(record)
    return found


class ContainerLabDir(LabDir):
    """A containerlab lab's LabDir: the record on this host, each node's directory in its
    container (nothing is made on this host), and the timeline with the edges' events."""

    def __init__(self, plan: Plan, host: Host, root: Path | None = None):
        super().__init__(plan.lab, root)
        self.plan = plan
        self.host = host

    def node(self, node: str) -> Path:
        return node_dir(self.plan.node(node))

    def events(self) -> list[dict[str, object]]:
        return super().events() + edge_event_records(self.plan, self.host)


@dataclass(frozen=True)
class Attached:
    """What a Lab is made of on this runtime (emulator.lab.lifecycle.open_lab)."""

    plan: Plan
    dir: ContainerLabDir
    runtime: ContainerlabRuntime
    driver: DockerBondDriver
    host: Host


def attach(labdir: LabDir, run: Runner = run_local) -> Attached:
    """A recorded containerlab lab, read through `docker exec clab-<lab>-<node>`."""
    plan = recorded_plan(labdir)
    runtime = ContainerlabRuntime(plan.lab, run)
    root = labdir.path.parent
    return Attached(plan, ContainerLabDir(plan, runtime, root), runtime,
                    DockerBondDriver(runtime), runtime)
