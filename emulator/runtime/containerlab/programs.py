"""Router programs in containers: every node's configuration comes from its node kind
(emulator.nodes.registry), or is the user's own file copied byte for byte, and each program has
an in-container directory `d` and a way to start.

`d` holds the program's sockets, pid files and logs, as the node's directory does on the embedded
runtime: the kind renders its configuration for d, and observes it through d
(emulator.runtime.containerlab.host.DockerHost). The configuration directory is rendered under
nodes/<node>/<software>/ and seen in the container at `config_dir`.

FRR and BIRD start from start.sh (their images carry no Python). The programs whose images carry
the emulator package (OpenBGPD, GoBGP: Debian's package, python3 and the package) are started by
their node kind's own start(), run in the container by the node agent, as on the embedded runtime.
"""
from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from emulator.core import wait
from emulator.core.errors import PlanError
from emulator.nodes import registry
from emulator.nodes.base import NodeKind
from emulator.plan.model import Node, Plan
from emulator.plan import planfile
from emulator.runtime.containerlab.layout import NODE_DIR, STATE_DIR

AGENT_PYTHON = "python3"               # Debian's, in the images that carry the package
AGENT_SRC = "/opt/maps-lab/src"       # where those images have the emulator package
START_FILE = "program.json"           # the node agent's instructions, in the node's directory


@dataclass(frozen=True)
class ContainerProgram:
    """How one router program runs in a maps-lab container."""

    software: str
    config_dir: str                         # where nodes/<node>/<software>/ is seen
    run_dir: str                            # d: sockets, pid files, logs
    start: Callable[[Node, ContainerProgram, NodeKind], list[str]]   # start.sh lines
    bind: bool = True                       # config_dir is a bind of its own (else under /maps-lab)
    extra: Callable[[Node], dict[str, str]] = lambda node: {}        # more files beside the config
    agent: bool = False                     # started by the node agent (its image has Python)
    helpers: tuple[str, ...] = ()           # shell functions of start.sh its lines call

    def config_file(self, kind: NodeKind) -> str:
        return f"{self.config_dir}/{kind.config_name}"


def _frr_files(node: Node) -> dict[str, str]:
    daemons = "\n".join([
        "# FRR daemons of " + node.name + ": read by FRR's own start-up (frrinit.sh, docker-start)",
        "# when the node runs an FRR image that starts FRR itself; maps-lab's image starts zebra",
        "# and bgpd from start.sh.",
        "bgpd=yes", "ospfd=no", "ospf6d=no", "ripd=no", "ripngd=no", "isisd=no", "pimd=no",
        "ldpd=no", "nhrpd=no", "eigrpd=no", "babeld=no", "sharpd=no", "pbrd=no", "bfdd=no",
        "fabricd=no", "vrrpd=no", "pathd=no", "staticd=no",
        "vtysh_enable=yes",
        'zebra_options="  -A 127.0.0.1 -s 90000000"',
        'bgpd_options="   -A 127.0.0.1"',
    ])
    return {
        "zebra.conf": f"hostname {node.name}\n",
        # Per-daemon configs, as the embedded runtime: no integrated frr.conf.
        "vtysh.conf": "no service integrated-vtysh-config\n",
        "daemons": daemons + "\n",
    }


def _frr_start(node: Node, program: ContainerProgram, kind: NodeKind) -> list[str]:
    d, conf = program.run_dir, program.config_dir
    budget = int(wait.BUDGETS["daemon_socket"])
    common = f"-d -A 127.0.0.1 -P 0 -z {d}/zserv.api"
    return [
        "",
        "# FRR: zebra, then bgpd once zebra's zserv socket exists (bgpd retries only after",
        "# 10 s). An FRR image that starts FRR itself from /etc/frr/daemons is left alone.",
        f"if [ ! -S {d}/zserv.api ]; then",
        f"  install -d -o frr -g frr {d} /var/log/frr",
        f"  /usr/lib/frr/zebra {common} -f {conf}/zebra.conf -i {d}/zebra.pid"
        f" --log file:{d}/zebra.log",
        f"  wait_socket {d}/zserv.api {budget}",
        f"  /usr/lib/frr/bgpd {common} -f {program.config_file(kind)} -i {d}/bgpd.pid"
        f" --log file:{d}/bgpd.log",
        "fi",
    ]


def _bird_start(node: Node, program: ContainerProgram, kind: NodeKind) -> list[str]:
    d = program.run_dir
    return ["", "# BIRD 2", f"install -d {d}",
            f"bird -c {program.config_file(kind)} -s {d}/bird.ctl -P {d}/bird.pid"]


def _agent_start(node: Node, program: ContainerProgram, kind: NodeKind) -> list[str]:
    d = program.run_dir
    return ["", f"# {getattr(kind, 'title', kind.software)}: started by its node kind's own "
                f"start() (emulator.nodes.{kind.software}),",
            "# run here by the node agent, as the embedded runtime runs it.",
            f"install -d {d}",
            f"PYTHONPATH={AGENT_SRC} {AGENT_PYTHON} -m emulator.runtime.containerlab.node_agent "
            f"start {NODE_DIR}/{START_FILE}"]

PROGRAMS: dict[str, ContainerProgram] = {p.software: p for p in (
    ContainerProgram("frr", "/etc/frr", "/var/run/frr", _frr_start, extra=_frr_files,
                     helpers=("wait_socket",)),
    ContainerProgram("bird", "/etc/bird", "/run/bird", _bird_start),
    ContainerProgram("openbgpd", f"{NODE_DIR}/openbgpd", f"{STATE_DIR}/openbgpd", _agent_start,
                     bind=False, agent=True),
    ContainerProgram("gobgp", f"{NODE_DIR}/gobgp", f"{STATE_DIR}/gobgp", _agent_start,
                     bind=False, agent=True),
)}


def runs_program(node: Node) -> bool:
    """Whether the node runs a router program of the node registry (not an edge or the LAN)."""
    return node.software in registry.kinds()


def program_of(node: Node) -> tuple[ContainerProgram, NodeKind]:
    try:
        kind = registry.kind_of(node)
    except KeyError as exc:
        raise PlanError(str(exc.args[0])) from None
    program = PROGRAMS.get(node.software)
    if program is None:
        raise PlanError(f"{node.name}: {node.software} has no start-up in containers yet "
                        f"(containerlab runs {', '.join(sorted(PROGRAMS))})")
    return program, kind


def user_config(node: Node) -> Path | None:
    """The user's own configuration file (plan field `config`), if the node has one."""
    config = getattr(node, "config", None)
    return Path(config) if config else None


def program_files(plan: Plan, node: Node) -> dict[str, str | bytes]:
    """The node's configuration directory (relative to nodes/<node>/) and, for programs the
    node agent starts, its instructions. The user's own file is copied byte for byte."""
    program, kind = program_of(node)
    own = user_config(node)
    if own is not None:
        if not own.is_file():
            raise PlanError(f"{node.name}: its configuration file {own} does not exist")
        config: str | bytes = own.read_bytes()
    else:
        config = kind.render(plan, node, Path(program.run_dir))
    files: dict[str, str | bytes] = {f"{node.software}/{kind.config_name}": config}
    files |= {f"{node.software}/{name}": text for name, text in program.extra(node).items()}
    if program.agent:
        files[START_FILE] = json.dumps(start_instructions(plan, node, program, kind),
                                       indent=2) + "\n"
    return files


def start_instructions(plan: Plan, node: Node, program: ContainerProgram,
                       kind: NodeKind) -> dict[str, object]:
    """What the node agent needs to run the kind's start() in the container. The plan's `config`
    paths are the rendering machine's: they mean nothing there (and would make the rendering
    differ between machines), so only their file names are kept (what a kind may read from
    one: GoBGP, the format); the node's own file is `config`."""
    portable = dataclasses.replace(plan, nodes=tuple(
        dataclasses.replace(n, config=Path(n.config).name) if getattr(n, "config", None) else n
        for n in plan.nodes))
    return {"node": node.name, "config": program.config_file(kind), "dir": program.run_dir,
            "plan": planfile.to_dict(portable)}


def binds(node: Node) -> list[str]:
    program, _ = program_of(node)
    return [f"nodes/{node.name}/{node.software}:{program.config_dir}"] if program.bind else []


def start_lines(node: Node) -> list[str]:
    program, kind = program_of(node)
    return program.start(node, program, kind)


def helpers(node: Node) -> tuple[str, ...]:
    return program_of(node)[0].helpers if runs_program(node) else ()
