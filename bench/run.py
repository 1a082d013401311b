"""`make bench`: how fast and how big maps-lab is, measured on this machine, beside munet.

Prints a Markdown report (min / median / max over several runs):
  - bring-up of generated topologies (emulator.topology.generate) of 1, 2, 4 and 10 locations: time from
    launching `mapslab up` to every BGP session Established and to the lab being up;
  - memory per router (PSS and RSS of every process in the router's namespace) and per lab;
  - CPU the idle lab uses (the timeline monitor's polling among it);
  - time for `mapslab status`, `mapslab check` and `mapslab down`;
  - munet (bench/munet_baseline.py) bringing up the same nodes, links and daemons, in the same
    run, alternating with ours, and our time as a ratio to it;
  - convergence from the failover harness (emulator.judge.harness) on a 4-location lab: the longest
    gap in probe traffic when the link, router or location carrying it fails.
Progress goes to stderr; the report to stdout (BENCHMARKS.md is one such report).

    python bench/run.py [--runs 3] [--locations 1,2,4,10] [--harness-runs 3] [--no-munet]

Lab names: bench<N> and benchfo; nothing else is touched. A benchmark prints figures, it never
fails on them; it exits non-zero only when a lab did not come up.
"""
from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import phases  # noqa: E402
from emulator.core.labdir import LabDir  # noqa: E402
from emulator.lab import lifecycle as lab_module  # noqa: E402
from emulator.topology.generate import generate  # noqa: E402
from emulator.topology.loader import load  # noqa: E402
from emulator.plan.model import Role  # noqa: E402
from emulator.plan.resolve import resolve  # noqa: E402
from emulator.runtime.netns import namespace, namespace_pids  # noqa: E402

MAPSLAB = str(Path(sys.executable).with_name("mapslab"))
DEBIAN_PACKAGES = ("openvswitch-switch", "frr", "bird2", "iproute2")
PYPI_PACKAGES = ("exabgp", "pyroute2", "pydantic", "munet")
ESTABLISHED = "BGP sessions Established"
LAB_UP = "lab is up"
UP_BUDGET = 300.0          # one `mapslab up`, whatever the size
COMMAND_BUDGET = 120.0     # status, check, down
FRR_TMP = Path("/var/tmp/frr")
CPU_WINDOW = 5.0           # seconds of idle-lab CPU sampling
# munet 0.17.3 races while creating a node (`pgrep -o -P` right after forking nsenter) and
# fails now and then on a busy machine; a failed attempt is counted and reported.
MUNET_ATTEMPTS = 3


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# ---- figures ----

@dataclass
class Series:
    """Several measurements of one figure."""

    values: list[float] = field(default_factory=list)

    def add(self, value: float | None) -> None:
        if value is not None:
            self.values.append(value)

    def cell(self, fmt: str = "{:.2f}") -> str:
        if not self.values:
            return "n/a"
        v = sorted(self.values)
        return " / ".join(fmt.format(x) for x in (v[0], statistics.median(v), v[-1]))

    @property
    def median(self) -> float | None:
        return statistics.median(self.values) if self.values else None


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


# ---- the machine ----

def _run(argv: Sequence[str]) -> str:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def machine() -> list[tuple[str, str]]:
    meminfo = dict(line.split(":", 1) for line in Path("/proc/meminfo").read_text().splitlines())
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
               platform.processor())
    loadavg = " ".join(f"{x:.2f}" for x in os.getloadavg())
    rows = [("CPUs (`nproc`)", _run(["nproc"])), ("CPU", cpu),
            ("memory", f"{int(meminfo['MemTotal'].split()[0]) / 1024 / 1024:.1f} GiB"),
            ("kernel", platform.release()),
            ("Debian", Path("/etc/debian_version").read_text().strip()),
            ("Python", platform.python_version()),
            ("load average (1, 5, 15 min) as the report was written", loadavg)]
    for package in DEBIAN_PACKAGES:
        rows.append((package, _run(["dpkg-query", "-W", "-f", "${Version}", package]) or "n/a"))
    for package in PYPI_PACKAGES:
        try:
            rows.append((package + " (PyPI)", metadata.version(package)))
        except metadata.PackageNotFoundError:
            rows.append((package + " (PyPI)", "not installed"))
    return rows


# ---- one lab ----

@dataclass(frozen=True)
class UpRun:
    established: float | None    # seconds from launch to the progress line
    up: float | None
    exited: float                 # `mapslab up` returned (it prints the status table first)
    steps: list[tuple[float, str]]
    launched_at: float = 0.0      # Unix time of the launch (the lab's timeline uses Unix times)


def bring_up(topology: Path) -> UpRun:
    """`mapslab up`, timing each progress line as it arrives."""
    launched_at = time.time()
    launched = time.monotonic()
    proc = subprocess.Popen([MAPSLAB, "up", str(topology)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    steps: list[tuple[float, str]] = []
    deadline = launched + UP_BUDGET
    try:
        for line in proc.stdout:
            steps.append((time.monotonic() - launched, line.rstrip()))
            if time.monotonic() > deadline:
                raise TimeoutError(f"`mapslab up {topology}` took over {UP_BUDGET:.0f} s")
        proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    exited = time.monotonic() - launched
    if proc.returncode != 0:
        raise RuntimeError(f"`mapslab up {topology}` exited {proc.returncode}:\n"
                           + proc.stderr.read()[-3000:])

    def at(text: str) -> float | None:
        return next((t for t, line in steps if text in line), None)
    return UpRun(at(ESTABLISHED), at(LAB_UP), exited, steps, launched_at)


def timed(argv: Sequence[str]) -> float:
    started = time.monotonic()
    subprocess.run(argv, capture_output=True, text=True, timeout=COMMAND_BUDGET,
                   stdin=subprocess.DEVNULL)
    return time.monotonic() - started


def _pss_rss(pid: int) -> tuple[int, int]:
    """Proportional and resident set size of one process, in kB."""
    pss = rss = 0
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                pss = int(line.split()[1])
            elif line.startswith("Rss:"):
                rss = int(line.split()[1])
    except OSError:
        pass
    return pss, rss


@dataclass(frozen=True)
class NodeMemory:
    node: str
    role: Role
    pss_kb: int
    rss_kb: int
    processes: int


def memory(lab: str, topology: Path) -> list[NodeMemory]:
    plan = resolve(load(topology))
    found = []
    for node in plan.nodes:
        pids = namespace_pids(namespace(lab, node.name))
        sizes = [_pss_rss(pid) for pid in pids]
        found.append(NodeMemory(node.name, node.role, sum(s[0] for s in sizes),
                                sum(s[1] for s in sizes), len(pids)))
    return found


def _ticks(pid: int) -> int:
    """CPU ticks of a process and of its reaped children (the monitor's ovs-appctl calls)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()
        return sum(int(x) for x in fields[11:15])
    except (OSError, IndexError, ValueError):
        return 0


def _kind(pid: int) -> str:
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return "?"
    for marker, kind in (("emulator.lab.monitor", "monitor (+ its ovs-appctl calls)"),
                         ("/internet/exabgp.conf", "exabgp (to the internet)"),
                         ("/exabgp/exabgp.conf", "exabgp (one per edge)"),
                         ("exabgp server", "exabgp (per link)"), ("emulator.edge.agent", "edge agent"),
                         ("ovs-vswitchd", "ovs-vswitchd"), ("ovsdb-server", "ovsdb-server"),
                         ("bgpd", "bgpd"), ("zebra", "zebra"), ("bird", "bird")):
        if marker in cmd:
            return kind
    return cmd.split(" ", 1)[0].rsplit("/", 1)[-1]


def idle_cpu(lab: str, seconds: float = CPU_WINDOW) -> dict[str, float]:
    """Share of one core each kind of lab process uses while the lab just runs."""
    pids = lab_module.lab_processes(lab)
    before = {pid: _ticks(pid) for pid in pids}
    started = time.monotonic()
    time.sleep(seconds)
    elapsed = time.monotonic() - started
    use: dict[str, float] = defaultdict(float)
    hz = os.sysconf("SC_CLK_TCK")
    for pid in pids:
        kind = _kind(pid)
        if kind != "?":            # ended during the window
            use[kind] += (_ticks(pid) - before[pid]) / hz / elapsed * 100
    return dict(use)


def _own_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return 0


def startup_cpu(lab: str) -> dict[str, float]:
    """CPU seconds each kind of lab process has used so far (right after `up`: its start-up)."""
    use: dict[str, float] = defaultdict(float)
    hz = os.sysconf("SC_CLK_TCK")
    for pid in lab_module.lab_processes(lab):
        kind = _kind(pid)
        if kind != "?":
            use[kind] += _own_ticks(pid) / hz
    return dict(use)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def frr_tmp_dirs(lab: str) -> set[Path]:
    """The per-process directories FRR keeps in /var/tmp/frr, held open by the lab's daemons."""
    found = set()
    for pid in lab_module.lab_processes(lab):
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                target = Path(os.readlink(fd))
            except OSError:
                continue
            if target.parent == FRR_TMP:
                found.add(target)
    return found


def down(lab: str) -> tuple[float, int]:
    """`mapslab down`; its time, and how many FRR directories it left in /var/tmp/frr."""
    held = frr_tmp_dirs(lab)
    took = timed([MAPSLAB, "down", lab])
    left = [d for d in held if d.exists()]
    for d in left:           # the bench cleans up after itself; the count is reported
        subprocess.run(["rm", "-rf", str(d)], check=False)
    return took, len(left)


# ---- the report's sections ----

@dataclass
class SizeFigures:
    locations: int
    nodes: int = 0
    lags: int = 0
    sessions: int = 0
    processes: int = 0
    established: Series = field(default_factory=Series)
    up: Series = field(default_factory=Series)
    exited: Series = field(default_factory=Series)
    down: Series = field(default_factory=Series)
    status: Series = field(default_factory=Series)
    check: Series = field(default_factory=Series)
    frr_left: Series = field(default_factory=Series)
    lab_pss: Series = field(default_factory=Series)
    lab_rss: Series = field(default_factory=Series)
    per_role_pss: dict[Role, Series] = field(default_factory=lambda: defaultdict(Series))
    per_role_rss: dict[Role, Series] = field(default_factory=lambda: defaultdict(Series))
    cpu: dict[str, Series] = field(default_factory=lambda: defaultdict(Series))
    boot_cpu: dict[str, Series] = field(default_factory=lambda: defaultdict(Series))
    steps: list[tuple[float, str]] = field(default_factory=list)
    phases: list[phases.Milestone] = field(default_factory=list)
    munet_built: Series = field(default_factory=Series)
    munet_established: Series = field(default_factory=Series)
    munet_prefixes: Series = field(default_factory=Series)
    munet_deleted: Series = field(default_factory=Series)
    munet_failures: int = 0


def measure_size(locations: int, runs: int, workdir: Path, with_munet: bool) -> SizeFigures:
    name = f"bench{locations}"
    topology = workdir / f"{name}.yaml"
    topology.write_text(generate(locations, name))
    plan = resolve(load(topology))
    figures = SizeFigures(locations, len(plan.nodes), len(plan.lags), len(plan.sessions))
    lab_module.down(name)
    for run in range(1, runs + 1):
        log(f"[{locations} location(s)] run {run}/{runs}: mapslab up")
        try:
            spent = children_cpu()
            result = bring_up(topology)
            figures.boot_cpu["`mapslab up` (+ the commands it ran)"].add(children_cpu() - spent)
            for kind, seconds in startup_cpu(name).items():
                figures.boot_cpu[kind].add(seconds)
            figures.established.add(result.established)
            figures.up.add(result.up)
            figures.exited.add(result.exited)
            if run == 1:
                figures.steps = result.steps
                figures.phases = phases.milestones(result.steps, LabDir(name).events_file,
                                                   result.launched_at, result.exited)
            for kind, share in idle_cpu(name).items():
                figures.cpu[kind].add(share)
            nodes = memory(name, topology)
            figures.processes = sum(n.processes for n in nodes)
            figures.lab_pss.add(sum(n.pss_kb for n in nodes) / 1024)
            figures.lab_rss.add(sum(n.rss_kb for n in nodes) / 1024)
            for n in nodes:
                figures.per_role_pss[n.role].add(n.pss_kb / 1024)
                figures.per_role_rss[n.role].add(n.rss_kb / 1024)
            figures.status.add(timed([MAPSLAB, "status", name]))
            figures.check.add(timed([MAPSLAB, "check", name]))
        finally:
            took, left = down(name)
        figures.down.add(took)
        figures.frr_left.add(left)
        if with_munet:
            from bench import munet_baseline
            m = None
            for attempt in range(1, MUNET_ATTEMPTS + 1):
                log(f"[{locations} location(s)] run {run}/{runs}: munet (attempt {attempt})")
                try:
                    m = munet_baseline.measure(topology)
                    break
                except RuntimeError as exc:
                    figures.munet_failures += 1
                    log(f"munet failed: {str(exc)[-300:]}")
            if m is None:
                continue
            figures.munet_built.add(m.built)
            figures.munet_established.add(m.established)
            figures.munet_prefixes.add(m.prefixes)
            figures.munet_deleted.add(m.deleted - m.prefixes)
    return figures


@dataclass
class Convergence:
    scenario: str
    target: str
    gap_ms: Series = field(default_factory=Series)
    lost: Series = field(default_factory=Series)
    recovery: Series = field(default_factory=Series)
    member_out: Series = field(default_factory=Series)
    passed: int = 0
    runs: int = 0
    errors: list[str] = field(default_factory=list)


def measure_convergence(runs: int, workdir: Path, locations: int = 4) -> list[Convergence]:
    """Each scenario `runs` times against what carries the probe's traffic. A run that fails
    (the harness raises, e.g. recovery never completes) is reported with its error, and the
    lab is brought up afresh for the next run."""
    from emulator.judge import harness
    from emulator.judge import traffic
    name = "benchfo"
    topology = workdir / f"{name}.yaml"
    topology.write_text(generate(locations, name))
    lab_module.down(name)
    results: list[Convergence] = []
    lab = None

    def fresh_lab():
        nonlocal lab
        if lab is not None:
            lab.close()
            down(name)
        log(f"[convergence] mapslab up ({locations} locations)")
        bring_up(topology)
        lab = lab_module.open_lab(name)
        return lab

    try:
        fresh_lab()
        baseline = traffic.measure(lab)
        edge = max(baseline.responders, key=baseline.responders.get)
        lag = next(l for l in lab.plan.lags if l.b_node == edge)
        location = lab.plan.node(edge).location
        scenarios = [("member-down", lag.name), ("lag-down", lag.name),
                     ("peer-router-down", lag.a_node), ("edge-down", edge),
                     ("location-down", location)]
        for scenario, target in scenarios:
            c = Convergence(scenario, target)
            for run in range(1, runs + 1):
                log(f"[convergence] {scenario} {target} run {run}/{runs}")
                c.runs += 1
                try:
                    r = harness.run(lab, scenario, target)
                except Exception as exc:      # reported; the next scenario gets a fresh lab
                    c.errors.append(f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}")
                    fresh_lab()
                    break
                c.passed += harness.judge(r).passed
                c.gap_ms.add(r.traffic.longest_gap_ms)
                c.lost.add(r.traffic.lost)
                c.recovery.add(r.recovery_seconds)
                c.member_out.add(r.member_removed_after)
            results.append(c)
    finally:
        if lab is not None:
            lab.close()
        down(name)
    return results


# ---- the report ----

ROLE_NAMES = {Role.PEER_ROUTER: "peer router (FRR zebra + bgpd, OVS)",
              Role.EDGE: "Microsoft edge (OVS, one ExaBGP, an agent per link)",
              Role.ROUTE_SERVER: "route server (BIRD)", Role.MEMBER: "member (BIRD)",
              Role.INTERNET: "internet (BIRD)",
              Role.SWITCH: "exchange LAN (bridge; the lab's monitor)"}


def report(sizes: list[SizeFigures], convergence: list[Convergence], runs: int,
           harness_runs: int, with_munet: bool, started: float) -> str:
    out = ["# maps-lab benchmarks", "",
           "Produced by `make bench` (`bench/run.py`); every figure is min / median / max over "
           f"{runs} run{'' if runs == 1 else 's'} unless marked. Generated topologies (`emulator/generate.py`): one "
           "connection (two LAGs of 2 × 10G) per location, two peer routers and two Microsoft "
           "edge routers a location, one exchange (route server, two members).", "",
           "## Machine", "", table(("", ""), machine()), ""]
    out += before_after(sizes)
    out += ["## Bring-up", "",
            "Seconds from launching `mapslab up` to the progress line saying every BGP session "
            "is Established, and to `lab is up` (Microsoft prefixes at every peer router, the "
            "exchange's at every edge agent).", ""]
    rows = [(str(s.locations), str(s.nodes), str(s.lags), str(s.sessions), str(s.processes),
             s.established.cell(), s.up.cell(), s.exited.cell()) for s in sizes]
    out += [table(("locations", "nodes", "LAGs", "BGP sessions", "processes",
                   "to Established (s)", "to lab up (s)", "`up` returned (s)"), rows), ""]
    if with_munet:
        out += ["## Side by side: munet", "",
                "The same plan brought up by munet "
                f"{_version('munet')} (`bench/munet_baseline.py`, run as PID 1 of its own PID "
                "namespace, alternating with our runs): the same nodes (one namespace each), the "
                "same veths, the same daemons with the same configurations, each node's daemons "
                "started at once by its `cmd` (no LACP gate), watched by the same observers. "
                "Ratio: our median time to Established over munet's (below 1: we are faster).",
                ""]
        rows = []
        for s in sizes:
            ratio = (f"{s.established.median / s.munet_established.median:.2f}"
                     if s.established.median and s.munet_established.median else "n/a")
            rows.append((str(s.locations), s.munet_built.cell(), s.munet_established.cell(),
                         s.established.cell(), ratio, s.munet_prefixes.cell(), s.up.cell(),
                         s.munet_deleted.cell(), s.down.cell()))
        out += [table(("locations", "munet build (s)", "munet to Established (s)",
                       "ours to Established (s)", "ours / munet", "munet to prefixes (s)",
                       "ours to lab up (s)", "munet delete (s)", "ours `down` (s)"), rows), ""]
        failures = sum(s.munet_failures for s in sizes)
        if failures:
            out += [f"munet attempts that failed and were repeated: {failures} (munet "
                    "0.17.3 looks up a node's forked `nsenter` with `pgrep -P` at once, a race "
                    "on a busy machine).", ""]
    out += ["## Memory", "",
            "PSS (shared pages divided among their users) and, in brackets, RSS, in MiB, of "
            "every process in a node's namespace, per node of each kind, after bring-up; the "
            "lab is the sum over its nodes.", ""]
    roles = [r for r in ROLE_NAMES if any(r in s.per_role_pss for s in sizes)]
    rows = []
    for s in sizes:
        cells = [str(s.locations)]
        for role in roles:
            cells.append(f"{s.per_role_pss[role].cell('{:.1f}')} "
                         f"({s.per_role_rss[role].cell('{:.1f}')})")
        cells.append(f"{s.lab_pss.cell('{:.0f}')} ({s.lab_rss.cell('{:.0f}')})")
        rows.append(cells)
    out += [table(["locations"] + [ROLE_NAMES[r] for r in roles] + ["lab"], rows), ""]
    out += ["## CPU spent bringing a lab up", "",
            "CPU seconds (user + system) used by the time `mapslab up` returned: by the "
            "controller and the commands it waited for, and by each kind of lab process "
            f"(all of them together); the machine has {_run(['nproc'])} cores.", ""]
    kinds = sorted({k for s in sizes for k in s.boot_cpu},
                   key=lambda k: -max(s.boot_cpu[k].median or 0 for s in sizes if k in s.boot_cpu))
    rows = [[str(s.locations)] + [s.boot_cpu[k].cell("{:.1f}") if k in s.boot_cpu else "-"
                                  for k in kinds]
            + [f"{sum(s.boot_cpu[k].median or 0 for k in s.boot_cpu):.1f}"] for s in sizes]
    out += [table(["locations"] + kinds + ["total (medians)"], rows), ""]
    out += ["## Idle CPU", "",
            f"Share of one core used by the lab's processes over {CPU_WINDOW:.0f} s right after "
            "bring-up, per kind of process (the machine has "
            f"{_run(['nproc'])} cores).", ""]
    kinds = sorted({k for s in sizes for k in s.cpu},
                   key=lambda k: -max(s.cpu[k].median or 0 for s in sizes if k in s.cpu))
    rows = [[str(s.locations)] + [s.cpu[k].cell("{:.0f}%") if k in s.cpu else "-" for k in kinds]
            for s in sizes]
    out += [table(["locations"] + kinds, rows), ""]
    out += ["## Commands on a running lab, and teardown", "",
            "Seconds for `mapslab status`, `mapslab check` and `mapslab down` (each a fresh "
            "process); FRR crash-log directories `down` left in /var/tmp/frr (the bench "
            "removes them).", ""]
    rows = [(str(s.locations), s.status.cell(), s.check.cell(), s.down.cell(),
             s.frr_left.cell("{:.0f}")) for s in sizes]
    out += [table(("locations", "status (s)", "check (s)", "down (s)",
                   "left in /var/tmp/frr"), rows), ""]
    if convergence:
        out += ["## Convergence (failover harness)", "",
                f"`emulator.harness.run` on a 4-location lab, {harness_runs} run"
                f"{'' if harness_runs == 1 else 's'} each: UDP probe "
                "at 100 packets/s from a member to Microsoft's anycast address; the fault hits "
                "what carries the probe's traffic (the LAG, peer router, edge and location of "
                "the edge answering before the fault). Longest gap in the echoes, packets lost, "
                "and seconds from `recover` until every LAG, session and prefix is back. "
                "BGP timers: keepalive 3 s, hold 10 s.", ""]
        rows = [(c.scenario, c.target, c.gap_ms.cell("{:.0f}"), c.lost.cell("{:.0f}"),
                 c.recovery.cell("{:.1f}"), f"{c.passed}/{c.runs}") for c in convergence]
        out += [table(("scenario", "target", "longest gap (ms)", "lost", "recovery (s)",
                       "judged pass"), rows), ""]
        for c in convergence:
            for error in c.errors:
                out.append(f"- {c.scenario}: run {c.runs} raised `{error}`; its other runs "
                           "were skipped")
        if any(c.errors for c in convergence):
            out.append("")
    smallest = sizes[0] if sizes else None
    if smallest and smallest.phases:
        out += [f"## Where the time goes: one `mapslab up` of {smallest.locations} "
                f"location{'' if smallest.locations == 1 else 's'}, phase by phase", "",
                "From what the lab recorded in its first run: the controller's progress lines "
                "(as they arrived) and the lab's timeline (events.jsonl: the edge automation, "
                "the edge agents, the monitor), on one clock, seconds since `mapslab up` was "
                "launched; each row's last figure is the time since the row before.", ""]
        out += [table(("milestone", "recorded by", "at (s)", "since previous (s)"),
                      phases.rows(smallest.phases)), ""]
    largest = sizes[-1] if sizes else None
    if largest and largest.steps:
        out += [f"## Where the time goes: one `mapslab up` of {largest.locations} "
                f"location{'' if largest.locations == 1 else 's'}", "",
                "```"] + [line for _, line in largest.steps if line.startswith("[")] + ["```", ""]
    out += [f"Whole benchmark: {(time.monotonic() - started) / 60:.1f} min."]
    return "\n".join(out) + "\n"


# Measured by this bench before the bring-up was made event-driven (unixctl reads aside): one
# run alternating ours and munet on this 2-core machine; the goals set for that work.
BEFORE = {"est1": 2.67, "up1": 4.15, "ratio1": 0.40, "ratio4": 0.53, "up10": 37.7,
          "idle10": 100.0, "down1": 0.60, "pss1": 287.0}
GOALS = {"est1": 1.2, "up1": 2.0, "ratio1": 0.25, "ratio4": 0.25, "up10": 15.0,
         "idle10": 30.0, "down1": 0.4, "pss1": 287.0}


def _ratio(s: SizeFigures | None) -> float | None:
    if s is None or not s.established.median or not s.munet_established.median:
        return None
    return s.established.median / s.munet_established.median


def before_after(sizes: list[SizeFigures]) -> list[str]:
    """The headline figures before and after, beside their goals (medians of this run)."""
    by = {s.locations: s for s in sizes}

    def med(n: int, attr: str) -> float | None:
        return getattr(by[n], attr).median if n in by else None

    def idle(n: int) -> float | None:
        if n not in by or not by[n].cpu:
            return None
        return sum(series.median or 0.0 for series in by[n].cpu.values())

    figures = (
        ("1 location: to Established (s)", "est1", med(1, "established"), "{:.2f}", "≤"),
        ("1 location: `up` returned (s)", "up1", med(1, "exited"), "{:.2f}", "≤"),
        ("ours / munet to Established, 1 location", "ratio1", _ratio(by.get(1)), "{:.2f}", "≤"),
        ("ours / munet to Established, 4 locations", "ratio4", _ratio(by.get(4)), "{:.2f}", "≤"),
        ("10 locations: `up` returned (s)", "up10", med(10, "exited"), "{:.1f}", "≤"),
        ("10 locations idle: CPU of the lab's processes (% of one core)", "idle10", idle(10),
         "{:.0f}", "≤"),
        ("`down`, 1 location (s)", "down1", med(1, "down"), "{:.2f}", "≤"),
        ("memory, 1 location (MiB PSS)", "pss1", med(1, "lab_pss"), "{:.0f}", "≤"),
    )
    rows = []
    for label, key, after, fmt, sense in figures:
        cell = "not measured" if after is None else fmt.format(after)
        met = "" if after is None else (" yes" if after <= GOALS[key] else " no")
        rows.append((label, fmt.format(BEFORE[key]), cell, f"{sense} {fmt.format(GOALS[key])}",
                     met.strip() or "-"))
    return ["## Before and after", "",
            "Medians of this run beside the figures measured before the bring-up was made "
            "event-driven (one run of this bench, ours and munet alternating, on the same "
            "machine; the 10-location idle CPU was about one core, ExaBGP ~58 %, the monitor "
            "~19 %), and the goals set then.", "",
            table(("figure", "before", "after", "goal", "met"), rows), ""]


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "?"


def main(argv: list[str] | None = None) -> int:
    top = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    top.add_argument("--runs", type=int, default=3)
    top.add_argument("--locations", default="1,2,4,10",
                     help="comma-separated location counts (default 1,2,4,10)")
    top.add_argument("--harness-runs", type=int, default=3, help="0 skips the harness")
    top.add_argument("--no-munet", action="store_true", help="skip the munet baseline")
    args = top.parse_args(argv)
    if os.geteuid() != 0:
        top.error("the bench brings labs up: run it as root")
    started = time.monotonic()
    with_munet = not args.no_munet
    if with_munet:
        from bench import munet_baseline
        munet_baseline.ensure_munet()
    counts = [int(x) for x in args.locations.split(",")]
    with tempfile.TemporaryDirectory(prefix="mapslab-bench-") as tmp:
        workdir = Path(tmp)
        sizes = [measure_size(n, args.runs, workdir, with_munet) for n in counts]
        convergence = (measure_convergence(args.harness_runs, workdir)
                       if args.harness_runs else [])
    print(report(sizes, convergence, args.runs, args.harness_runs, with_munet, started), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
