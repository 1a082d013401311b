"""`mapslab report`: a Markdown report of a lab with its timeline as a picture.

The picture has one row per LAG, one with its members up (green all, amber some, red none, with
the count: a member leaving a bundle that stays up shows), one per interconnect session (green
up, red down; a stopped edge's sessions are down from the moment it stops), the faults as grey
spans and the traffic lost in each failover as red spans on a row of its own.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from emulator.core.events import EventKind
from emulator.judge import checks
from emulator.judge import harness
from emulator.observe.timeline import Span, Timeline
from emulator.lab.lifecycle import Lab


@dataclass(frozen=True)
class Row:
    label: str
    spans: tuple[tuple[float, float, bool], ...]     # (start, end, up), seconds from the start
    # A members row: (start, end, members up) and the bundle's size.
    members: tuple[tuple[float, float, int], ...] = ()
    size: int = 0


MEMBER_COLOURS = ("#c62828", "#f9a825", "#2e7d32")      # none, some, all members up


def rows(lab: Lab, timeline: Timeline, end: float) -> list[Row]:
    t0 = timeline.start
    found: list[Row] = []
    for lag in lab.plan.lags:
        found.append(Row(f"LAG {lag.name}", _relative(timeline.lag_spans(lag.name, end), t0)))
        found.append(Row(f"  members of {lag.name}", (), tuple(
            (start - t0, stop - t0, up) for start, stop, up in timeline.member_spans(lag.name, end)),
            len(lag.members)))
        for session in [s for s in lab.plan.sessions if s.lag == lag.name]:
            spans = timeline.session_spans(lag.name, session.a_address, end)
            found.append(Row(f"BGP {session.name}", _relative(spans, t0)))
    return found


def _relative(spans: list[Span], t0: float) -> tuple[Span, ...]:
    return tuple((start - t0, stop - t0, up) for start, stop, up in spans)


def draw(lab: Lab, timeline: Timeline, failovers: list[dict], path: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    end = max([time.time()] + [e.time for e in timeline.events])
    t0 = timeline.start
    table = rows(lab, timeline, end)
    fig_height = 1.2 + 0.42 * (len(table) + 1)
    fig, ax = plt.subplots(figsize=(12, fig_height), dpi=100)
    labels = [r.label for r in table] + ["traffic lost"]
    for index, row in enumerate(table):
        for start, stop, up in row.spans:
            ax.barh(index, stop - start, left=start, height=0.6,
                    color="#2e7d32" if up else "#c62828")
        for start, stop, count in row.members:
            colour = MEMBER_COLOURS[0 if count == 0 else 2 if count >= row.size else 1]
            ax.barh(index, stop - start, left=start, height=0.6, color=colour)
            ax.annotate(f"{count}/{row.size}", (start, index), xytext=(2, 0),
                        textcoords="offset points", va="center", fontsize=6, color="white")
    loss_row = len(table)
    for entry in failovers:
        if entry.get("first_lost_at"):
            start = entry["first_lost_at"] - t0
            stop = max(entry["last_lost_at"] - t0, start + 0.05)
            ax.barh(loss_row, stop - start, left=start, height=0.6, color="#c62828")
            ax.annotate(f"{entry['lost']} lost, {entry['longest_gap_ms']:.0f} ms",
                        (stop, loss_row), xytext=(3, 0), textcoords="offset points",
                        va="center", fontsize=7)
    faults = timeline.of(EventKind.FAULT)
    recovers = timeline.of(EventKind.RECOVER)
    for fault in faults:
        stop = next((r.time for r in recovers if r.time >= fault.time), end)
        ax.axvspan(fault.time - t0, stop - t0, color="#9e9e9e", alpha=0.25)
        ax.annotate(f"{fault.get('scenario')} {fault.get('target')}", (fault.time - t0, -0.9),
                    fontsize=7, rotation=0, va="top")
    ax.set_yticks(range(len(labels)), labels=labels, fontsize=8)
    ax.set_ylim(len(labels) - 0.5, -1.3)
    ax.set_xlim(0, end - t0)
    ax.set_xlabel("seconds since the lab was created")
    ax.set_title(f"lab {lab.plan.lab}: LACP, LAG members, BGP and traffic (green up, amber some "
                 f"members, red down, grey: fault)")
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write(lab: Lab, out_dir: Path) -> Path:
    """Write report.md and timeline.png into out_dir; return the Markdown file."""
    out_dir.mkdir(parents=True, exist_ok=True)
    timeline = Timeline.read(lab.dir)
    failovers = harness.recorded(lab.dir)
    verdicts = checks.run_all(lab)
    picture = out_dir / "timeline.png"
    draw(lab, timeline, failovers, picture)
    t0 = timeline.start
    lines = [f"# maps-lab report: {lab.plan.lab}", "",
             f"Written {time.strftime('%Y-%m-%d %H:%M:%S %Z')}; LAGs through {lab.driver.name}; "
             f"BGP timers keepalive {lab.plan.timers.keepalive} s, hold {lab.plan.timers.hold} s.",
             "", "## Checks", "", "| check | verdict | summary |", "| --- | --- | --- |"]
    lines += [f"| {v.check} | {'PASS' if v.passed else 'FAIL'} | {v.summary} |" for v in verdicts]
    for v in verdicts:
        lines += ["", f"**{v.check}**", ""] + [f"- {e}" for e in v.evidence]
    lines += ["", "## Failovers", ""]
    if failovers:
        lines += ["| scenario | target | verdict | sent | lost | longest gap (ms) | session drops "
                  "| LAG stayed up | member out after (s) | recovery (s) | lost after recovery |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
        for f in failovers:
            removed = f"{f['member_removed_after']:.2f}" if f["member_removed_after"] else "-"
            stayed = f["lag_stayed_up"] if f.get("lag_looked_at", True) else "-"
            lines.append(f"| {f['scenario']} | {f['target']} | {'PASS' if f['passed'] else 'FAIL'} "
                         f"| {f['sent']} | {f['lost']} | {f['longest_gap_ms']:.0f} "
                         f"| {f['session_drops']} | {stayed} | {removed} "
                         f"| {f['recovery_seconds']:.2f} | {f['lost_after_recovery']} |")
    else:
        lines.append("No failover was run (`mapslab failover LAB SCENARIO TARGET`).")
    lines += ["", "## Timeline", "", f"![timeline]({picture.name})", "", "```"]
    lines += [f"+{e.time - t0:9.3f}s  {e.kind:<16} "
              + " ".join(f"{k}={v}" for k, v in e.fields.items() if k not in ("last",))
              for e in timeline.events[:500]]
    lines += ["```", ""]
    markdown = out_dir / "report.md"
    markdown.write_text("\n".join(lines))
    return markdown
