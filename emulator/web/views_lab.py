"""The lab view, for instructors and rehearsals: the topology with live LACP and BGP state, the
timeline, the checks with their evidence, the edge's verdict per route, faults and recovery,
and the report.

Backed by what the CLI runs: `status.status` (`mapslab status`), `Timeline.read` (`mapslab
timeline`), `checks.run_all` (`mapslab check`), `scenarios.inject` and `recover` with
`harness.settle` (`mapslab fail`, `mapslab recover`), `traffic.measure` (`mapslab probe`),
`report.write` (`mapslab report`).
"""
from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from emulator.judge import checks, harness, report, scenarios, traffic
from emulator.judge.scenarios import TargetKind
from emulator.lab import lifecycle, revive
from emulator.observe import status
from emulator.observe.timeline import Timeline
from emulator.plan.model import Plan, Role
from emulator.portal import store
from emulator.web import drawing, labs, stream
from emulator.web.errors import PortalRefusal
from emulator.web.jobs import Kind
from emulator.web.views_peering import json_body, portal_of

TIMELINE_SHOWN = 300
PROBE_COUNT = 300
PROBE_RATE = 100.0


def targets(plan: Plan) -> dict[str, list[str]]:
    """What each kind of scenario target can name in this lab."""
    lags = [lag.name for lag in plan.lags]
    return {TargetKind.MEMBER.name: lags, TargetKind.LAG.name: lags,
            TargetKind.PEER_ROUTER.name: [n.name for n in plan.nodes_with(Role.PEER_ROUTER)],
            TargetKind.EDGE.name: [n.name for n in plan.nodes_with(Role.EDGE)],
            TargetKind.LOCATION.name: sorted({n.location for n in plan.nodes
                                              if n.role is Role.PEER_ROUTER and n.location})}


def _timeline(running: lifecycle.Lab) -> list[dict[str, Any]]:
    """The lab's events and the turn-up's milestones, newest first."""
    timeline = Timeline.read(running.dir)
    t0 = timeline.start
    rows = [{"time": e.time, "at": round(e.time - t0, 3), "kind": e.kind.value,
             "text": " ".join(f"{k}={v}" for k, v in e.fields.items() if k != "last")}
            for e in timeline.events]
    record = store.read(running.dir)
    for m in record.milestones if record else ():
        rows.append({"time": m.time, "at": round(m.time - t0, 3), "kind": "milestone",
                     "text": f"{m.milestone.value} {m.about}: {m.subject}"})
    rows.sort(key=lambda r: r["time"], reverse=True)
    return rows[:TIMELINE_SHOWN]


def snapshot(lab: str) -> dict[str, Any]:
    """The lab's live state, as `mapslab status` and `mapslab timeline` read it."""
    with lifecycle.attached(lab) as running:
        found = status.status(running)
        faults = scenarios.active(running)
        events = _timeline(running)
    lags = {obs.lag: {"up": obs.peer_side.up and obs.edge_side.up,
                      "members": [{"ifname": peer.ifname, "up": peer.up, "edge_up": edge.up,
                                   "detail": peer.detail}
                                  for peer, edge in zip(obs.peer_side.members,
                                                        obs.edge_side.members)]}
            for obs in found.lags}
    return {
        "lab": lab, "lagDriver": found.lag_driver, "lags": lags,
        "sessions": [{"session": s.session, "node": s.node, "peer": s.peer_node,
                      "address": s.peer_address, "family": s.family, "state": s.state,
                      "established": s.established, "prefixes": s.prefixes_received,
                      "interconnect": s.interconnect} for s in found.sessions],
        "microsoftPrefixes": found.microsoft_prefixes,
        "edges": [{"node": e.node, "lag": e.lag,
                   "routes": [{"prefix": r.prefix, "outcome": r.outcome, "rule": r.rule,
                               "reason": r.reason, "asPath": list(r.as_path)}
                              for r in e.routes()]} for e in found.edges],
        "faults": [{"scenario": f.scenario, "target": f.target, "member": f.member}
                   for f in faults],
        # Programs that died (a router's, or the LACP speaker of one): Recover restarts them.
        "stopped": [{"node": p.node, "program": p.name, "what": p.what, "pid": p.pid,
                     "text": p.describe()} for p in found.stopped],
        "timeline": events,
    }


async def view(request: Request) -> Response:
    lab = request.path_params["lab"]
    portal = portal_of(request)
    portal.require_lab(lab, up=True)
    _, plan = await run_in_threadpool(labs.attach, lab)
    chosen = [{"name": s.name, "kind": s.target_kind.name, "kindText": s.target_kind.value,
               "summary": s.summary} for s in scenarios.registered().values()]
    return portal.page(request, "lab.html", {
        "lab": lab, "plan": plan, "svg": drawing.svg(plan), "scenarios": chosen,
        "targets": targets(plan), "members": max((len(g.members) for g in plan.lags),
                                                 default=1),
        "recovering": portal.jobs.running(lab, Kind.RECOVER)})


async def state_api(request: Request) -> Response:
    lab = request.path_params["lab"]
    portal_of(request).require_lab(lab, up=True)
    return JSONResponse(await run_in_threadpool(snapshot, lab))


async def state_stream(request: Request) -> Response:
    lab = request.path_params["lab"]
    portal = portal_of(request)

    def read() -> dict[str, Any]:
        portal.require_lab(lab, up=True)
        return snapshot(lab)
    return stream.respond(request, read)


async def run_checks(request: Request) -> Response:
    lab = request.path_params["lab"]
    portal_of(request).require_lab(lab, up=True)

    def work():
        with lifecycle.attached(lab) as running:
            return checks.run_all(running)
    verdicts = await run_in_threadpool(work)
    return JSONResponse([{"check": v.check, "passed": v.passed, "summary": v.summary,
                          "evidence": list(v.evidence)} for v in verdicts])


async def inject(request: Request) -> Response:
    lab = request.path_params["lab"]
    portal = portal_of(request)
    portal.require_lab(lab, up=True)
    body = await json_body(request)
    try:
        member = int(body.get("member") or 1)
    except (TypeError, ValueError):
        raise PortalRefusal(f"member {body.get('member')!r} is not a number") from None
    if portal.jobs.running(lab, Kind.RECOVER):
        raise PortalRefusal(f"lab {lab!r} is recovering; inject once it is back")

    def work():
        with lifecycle.attached(lab) as running:
            return scenarios.inject(running, str(body.get("scenario", "")),
                                    str(body.get("target", "")), member)
    fault = await run_in_threadpool(work)
    return JSONResponse({"scenario": fault.scenario, "target": fault.target,
                         "member": fault.member, "injectedAt": fault.injected_at})


async def recover(request: Request) -> Response:
    """Undo every fault, wait until all is back, then measure with the probe (a job)."""
    lab = request.path_params["lab"]
    portal = portal_of(request)
    portal.require_lab(lab, up=True)

    def work(progress):
        with lifecycle.attached(lab) as running:
            undone = scenarios.recover(running)
            restarted = revive.restart_stopped(running)     # router programs that died
            progress(f"recovered {len(undone)} fault(s)"
                     + "".join(f"; restarted {p.node}'s {p.name}" for p in restarted)
                     + "; waiting until every LAG, session and prefix is back")
            harness.settle(running)
            progress("every LAG, session and prefix is back; measuring with the probe")
            flow = traffic.default_flow(running.plan, "ipv4", None)
            result = traffic.measure(running, flow, PROBE_COUNT, PROBE_RATE)
        figures = {"source": flow.source, "destination": flow.destination,
                   "sent": result.sent, "lost": result.lost, "reordered": result.reordered,
                   "longestGapMs": round(result.longest_gap_ms), "responders": result.responders}
        progress(f"probe {flow.source} → {flow.destination}: sent {result.sent}, lost "
                 f"{result.lost}, longest gap {result.longest_gap_ms:.0f} ms")
        return {"recovered": len(undone), "probe": figures}
    job = portal.jobs.start(Kind.RECOVER, lab, work)
    return JSONResponse({"job": job.id, "url": f"/jobs/{job.id}"}, status_code=202)


async def report_zip(request: Request) -> Response:
    lab = request.path_params["lab"]
    portal_of(request).require_lab(lab, up=True)

    def work() -> bytes:
        with tempfile.TemporaryDirectory(prefix="mapslab-report-") as folder, \
                lifecycle.attached(lab) as running:
            markdown = report.write(running, Path(folder))
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
                for path in sorted(markdown.parent.iterdir()):
                    archive.write(path, f"{lab}-report/{path.name}")
            return buffer.getvalue()
    data = await run_in_threadpool(work)
    return Response(data, media_type="application/zip", headers={
        "content-disposition": f'attachment; filename="{lab}-report.zip"'})


def routes() -> list[Route]:
    return [
        Route("/labs/{lab}", view),
        Route("/labs/{lab}/stream", state_stream),
        Route("/labs/{lab}/report.zip", report_zip),
        Route("/api/labs/{lab}/state", state_api),
        Route("/api/labs/{lab}/checks", run_checks),
        Route("/api/labs/{lab}/faults", inject, methods=["POST"]),
        Route("/api/labs/{lab}/recover", recover, methods=["POST"]),
    ]
