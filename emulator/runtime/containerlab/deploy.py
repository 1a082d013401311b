"""Deploying a rendered lab where Docker and containerlab are: check, deploy, wait, destroy.

up() waits as the embedded runtime does, with the same readers: every LAG's edge side from the
kernel's /proc/net/bonding report (emulator.runtime.lag.procfs, read through `docker exec`), and
every interconnect session from the edge agents' bgp-state events on the lab's timeline.

The Deployment (what `mapslab up/down --runtime containerlab` call) also records the lab in its
directory on this host, so that `mapslab status`, `check` and `test` attach to it
(emulator.runtime.containerlab.attached).
"""
from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from emulator.core import wait
from emulator.core.errors import CommandFailed, RuntimeUnavailable
from emulator.core.events import Event, EventKind
from emulator.core.labdir import LabDir
from emulator.nodes.base import RouterView
from emulator.plan.model import Plan
from emulator.runtime.containerlab import attached, programs
from emulator.runtime.containerlab.bonds import DockerBondDriver
from emulator.runtime.containerlab.host import DockerHost, Runner, run_local
from emulator.runtime.containerlab.images import IMAGES
from emulator.runtime.containerlab.overrides import NodeOverride, parse_overrides
from emulator.runtime.containerlab.rendering import RenderedLab, render
from emulator.runtime.lag.state import LagState

Progress = Callable[[str], None]


def blocker(run: Runner = run_local) -> str | None:
    """Why containerlab labs cannot be deployed from here, or None."""
    for tool in ("docker", "containerlab"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (the containerlab runtime needs Docker and " \
                   f"containerlab)"
    try:
        result = run(["docker", "info"], timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"`docker info` failed: {exc}"
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        return f"`docker info` exited {result.returncode}: {last}"
    return None


def missing_images(rendered: RenderedLab, run: Runner = run_local) -> list[str]:
    """Images the topology names that the local Docker does not have."""
    document = yaml.safe_load(rendered.topology_file.read_text())
    images = sorted({n["image"] for n in document["topology"]["nodes"].values() if n.get("image")})
    return [i for i in images if run(["docker", "image", "inspect", i], timeout=30).returncode != 0]


def build_hint(missing: list[str], rendered: RenderedLab) -> str:
    """The commands that build the missing images of maps-lab, from the repository root."""
    builds = "; ".join(" ".join(i.build_argv(rendered_dir=str(rendered.out_dir)))
                       for i in IMAGES.values() if i.name in missing)
    return f" (from the repository root: {builds})" if builds else ""


def deploy_argv(topology_file: Path) -> list[str]:
    return ["containerlab", "deploy", "--topo", str(topology_file), "--reconfigure"]


def destroy_argv(topology_file: Path) -> list[str]:
    return ["containerlab", "destroy", "--topo", str(topology_file), "--cleanup"]


# --- what the running lab says -----------------------------------------------------------------

def edge_lags(plan: Plan, host: DockerHost) -> list[LagState]:
    """Every LAG's state at its edge end, from the edge container's /proc/net/bonding."""
    driver = DockerBondDriver(host)
    return [driver.observe(lag.b_node, lag) for lag in plan.lags]


def edge_events(plan: Plan, host: DockerHost) -> list[Event]:
    """The edges' timelines (the node agents' and the edge agents' records), in order."""
    found = []
    for record in attached.edge_event_records(plan, host):
        try:
            found.append(Event.parse(record))
        except ValueError:
            continue
    return sorted(found, key=lambda e: e.time)


def established(events: list[Event]) -> set[tuple[str, str]]:
    """(edge, peer address) of every session whose last bgp-state is up (ExaBGP's names)."""
    last: dict[tuple[str, str], str] = {}
    for event in events:
        if event.kind is EventKind.BGP_STATE:
            last[(str(event.get("node")), str(event.get("peer")))] = str(event.get("state"))
    return {key for key, state in last.items() if state == "up"}


def missing_lags(states: list[LagState]) -> str:
    return "\n".join(f"{s.node} {s.ifname}: LACP not collecting/distributing "
                     f"({', '.join(m.detail for m in s.members) or 'no bond yet'})"
                     for s in states if not s.up)


def missing_sessions(plan: Plan, events: list[Event]) -> str:
    up = established(events)
    return "\n".join(f"{s.b_node} {s.name} ({s.a_address}): not Established"
                     for s in plan.sessions if s.interconnect and (s.b_node, s.a_address) not in up)


def router_views(plan: Plan, host: DockerHost) -> list[RouterView]:
    """Every router program's own view of its sessions, read by its node kind in its container
    (the in-container directory as the kind rendered it)."""
    views = []
    for node in plan.nodes:
        if programs.runs_program(node):
            _, kind = programs.program_of(node)
            views.append(kind.observe(host, node, attached.node_dir(node)))
    return views


# --- up and down -------------------------------------------------------------------------------

def up(plan: Plan, out_dir: Path, overrides: Mapping[str, NodeOverride] | None = None,
       progress: Progress = lambda _: None, run: Runner = run_local) -> RenderedLab:
    """Render, `containerlab deploy`, then wait until every LAG is up and every interconnect
    session Established, as the edges report them. On any failure the lab is destroyed."""
    reason = blocker(run)
    if reason:
        raise RuntimeUnavailable(reason)
    rendered = render(plan, out_dir, overrides)
    progress(f"rendered {rendered.topology_file}")
    missing = missing_images(rendered, run)
    if missing:
        raise RuntimeUnavailable(f"images not built: {', '.join(missing)}"
                                 + build_hint(missing, rendered))
    host = DockerHost(plan.lab, run)
    try:
        result = run(deploy_argv(rendered.topology_file), timeout=900)
        if result.returncode != 0:
            raise CommandFailed(deploy_argv(rendered.topology_file), result.returncode,
                                result.stderr)
        progress(f"containerlab deployed {len(plan.nodes)} nodes")
        wait.until("lacp_setup", lambda: edge_lags(plan, host), missing_lags)
        progress(f"{len(plan.lags)} LAGs up: LACP collecting and distributing at every edge")
        wait.until("ebgp_session", lambda: edge_events(plan, host),
                   lambda events: missing_sessions(plan, events))
    except BaseException:
        progress("failed: destroying the lab")
        run(destroy_argv(rendered.topology_file), timeout=300)
        raise
    progress("every interconnect session Established")
    return rendered


def down(topology_file: Path, run: Runner = run_local) -> None:
    result = run(destroy_argv(topology_file), timeout=300)
    if result.returncode != 0:
        raise CommandFailed(destroy_argv(topology_file), result.returncode, result.stderr)


def _lab_of(topology_file: Path) -> str | None:
    """The lab name a rendered topology file deploys (its `name:`), or None."""
    try:
        document = yaml.safe_load(Path(topology_file).read_text())
    except (OSError, yaml.YAMLError):
        return None
    return document.get("name") if isinstance(document, dict) else None


@dataclass(frozen=True)
class ContainerlabDeployment:
    """emulator.runtime.registry.Deployment for containerlab: up and down also keep the lab's
    record on this host (emulator.runtime.containerlab.attached), which attach() reads."""

    def blocker(self) -> str | None:
        return blocker()

    def overrides(self, path: Path) -> dict[str, NodeOverride]:
        return parse_overrides(yaml.safe_load(Path(path).read_text()) or {}, Path(path).parent)

    def render(self, plan: Plan, out_dir: Path,
               overrides: Mapping[str, Any] | None = None) -> RenderedLab:
        return render(plan, out_dir, overrides)

    def up(self, plan: Plan, out_dir: Path, overrides: Mapping[str, Any] | None = None,
           progress: Progress = lambda _: None) -> RenderedLab:
        labdir = LabDir(plan.lab)
        try:
            attached.claim(labdir, plan, out_dir)
            labdir.event(EventKind.LAB_CREATED, lab=plan.lab)
        except OSError as exc:
            raise RuntimeUnavailable(f"cannot record the lab in {labdir.path}: {exc} (set "
                                     f"MAPSLAB_RUN_DIR to a directory you can write)") from None
        try:
            rendered = up(plan, out_dir, overrides, progress)
        except BaseException:
            attached.forget(plan.lab)
            raise
        state = labdir.read_state()
        state.phase = "up"
        labdir.write_state(state)
        return rendered

    def down(self, topology_file: Path) -> None:
        """Destroy the lab of a rendered topology file, or of a lab's name recorded here."""
        path = Path(topology_file)
        if not path.is_file() and LabDir(str(path)).exists():
            path = attached.Deployed.read(LabDir(str(path))).topology_file
        down(path)
        lab = _lab_of(path)
        if lab:
            attached.forget(lab)

    def attach(self, labdir: LabDir) -> attached.Attached:
        """The recorded lab, read through `docker exec` (emulator.lab.lifecycle.open_lab)."""
        return attached.attach(labdir)


DEPLOYMENT = ContainerlabDeployment()
