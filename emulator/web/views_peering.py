"""The page's screens of a peering: the Peerings list, the peering with its connections, the
Registered ASNs and prefixes blades, the notifications; and the jobs' progress pages.

Every screen calls what the CLI calls: `provisioning.status` (`mapslab peering`),
`registration.register_asn` and `activate_prefix` with `wait_edges_judged` (`mapslab asn
register`, `mapslab prefix activate`), `store.events` (`mapslab events`), `lifecycle.down`.
"""
from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from emulator.lab import lifecycle
from emulator.portal import registration
from emulator.web import labs
from emulator.web import stream
from emulator.web.errors import PortalRefusal
from emulator.web.jobs import Job, Kind
from emulator.web.labs import PeeringView


def portal_of(request: Request):
    """The Portal this request reached (emulator.web.app)."""
    return request.app.state.portal


def peering_json(view: PeeringView) -> dict[str, Any]:
    """A peering as the pages (and the API's readers) see it, under Azure's names."""
    record = view.record
    out: dict[str, Any] = {"lab": view.lab, "phase": view.phase, "peering": None,
                           "connections": [], "registeredAsns": [], "prefixes": []}
    if record is None:
        return out
    out["peering"] = record.peering.model_dump(mode="json", by_alias=True)
    out["connections"] = [{"name": c.name, "connectionState": c.state.value, "detail": c.detail,
                           "sessions": [{"name": s.name, "lag": s.lag,
                                         "established": s.established} for s in c.sessions]}
                          for c in view.connections]
    out["registeredAsns"] = [r.model_dump(mode="json", by_alias=True)
                             for r in record.registrations]
    out["prefixes"] = [p.model_dump(mode="json", by_alias=True) for p in record.prefixes]
    out["notifications"] = len(record.milestones)
    return out


async def json_body(request: Request) -> dict[str, Any]:
    try:
        data = await request.json()
    except ValueError:
        raise PortalRefusal("the request's body is not JSON") from None
    if not isinstance(data, dict):
        raise PortalRefusal("the request's body must be a JSON object")
    return data


async def peerings(request: Request) -> Response:
    portal = portal_of(request)
    found = await run_in_threadpool(labs.peerings)
    building = [j for j in portal.jobs.unfinished() if j.kind == Kind.DEPLOY]
    return portal.page(request, "peerings.html", {"peerings": found, "jobs": building})


async def peering(request: Request) -> Response:
    lab = request.path_params["lab"]
    portal = portal_of(request)
    portal.require_lab(lab)
    view = await run_in_threadpool(labs.peering, lab)
    return portal.page(request, "peering.html", {
        "lab": lab, "view": view, "data": peering_json(view),
        "building": portal.jobs.running(lab, Kind.DEPLOY)})


async def peering_api(request: Request) -> Response:
    lab = request.path_params["lab"]
    portal_of(request).require_lab(lab)
    return JSONResponse(peering_json(await run_in_threadpool(labs.peering, lab)))


async def peering_stream(request: Request) -> Response:
    lab = request.path_params["lab"]
    portal = portal_of(request)

    def snapshot() -> dict[str, Any]:
        portal.require_lab(lab)
        return peering_json(labs.peering(lab))
    return stream.respond(request, snapshot)


async def topology_file(request: Request) -> Response:
    """The lab's topology file, as `mapslab up` read it: file → lab → file."""
    lab = request.path_params["lab"]
    portal_of(request).require_lab(lab)
    labdir, _ = labs.state(lab)
    text = await run_in_threadpool((labdir.path / "topology.yaml").read_text)
    return PlainTextResponse(text, media_type="application/yaml", headers={
        "content-disposition": f'attachment; filename="{lab}.yaml"'})


# ---- Registered ASNs, prefixes ----

async def registered_asns(request: Request) -> Response:
    lab = request.path_params["lab"]
    portal = portal_of(request)
    portal.require_lab(lab, up=True)
    view = await run_in_threadpool(labs.peering, lab)
    return portal.page(request, "registered_asns.html", {"lab": lab, "view": view,
                                                         "data": peering_json(view)})


async def register(request: Request) -> Response:
    lab = request.path_params["lab"]
    portal = portal_of(request)
    portal.require_lab(lab, up=True)
    body = await json_body(request)
    name = str(body.get("name", "")).strip()
    try:
        asn = int(str(body.get("asn", "")).strip())
    except ValueError:
        raise PortalRefusal(f"ASN {body.get('asn')!r} is not a number") from None

    def work():
        labdir, plan = labs.attach(lab)
        found = registration.register_asn(labdir, plan, name, asn)
        registration.wait_edges_judged(labdir, plan)
        return found
    found = await run_in_threadpool(work)
    return JSONResponse(found.model_dump(mode="json", by_alias=True))


async def prefixes(request: Request) -> Response:
    lab = request.path_params["lab"]
    portal = portal_of(request)
    portal.require_lab(lab, up=True)

    def read():
        _, plan = labs.attach(lab)
        return labs.peering(lab), registration.origins(plan)
    view, origins = await run_in_threadpool(read)
    return portal.page(request, "prefixes.html", {"lab": lab, "view": view,
                                                  "data": peering_json(view),
                                                  "origins": origins})


async def activate(request: Request) -> Response:
    lab = request.path_params["lab"]
    portal = portal_of(request)
    portal.require_lab(lab, up=True)
    body = await json_body(request)
    prefix, key = str(body.get("prefix", "")), str(body.get("key", ""))

    def work():
        labdir, plan = labs.attach(lab)
        found = registration.activate_prefix(labdir, plan, prefix, key)
        registration.wait_edges_judged(labdir, plan)
        return found
    found = await run_in_threadpool(work)
    return JSONResponse(found.model_dump(mode="json", by_alias=True))


# ---- notifications ----

async def notifications(request: Request) -> Response:
    lab = request.path_params["lab"]
    portal = portal_of(request)
    portal.require_lab(lab)
    labdir, _ = labs.state(lab)
    found = await run_in_threadpool(labs.notifications, labdir)
    return portal.page(request, "notifications.html", {"lab": lab, "messages": found})


async def notification(request: Request) -> Response:
    lab = request.path_params["lab"]
    portal = portal_of(request)
    portal.require_lab(lab)
    labdir, _ = labs.state(lab)
    delivered, body = await run_in_threadpool(labs.message, labdir, request.path_params["key"])
    return portal.page(request, "notification.html", {"lab": lab, "message": delivered,
                                                      "body": body})


# ---- delete, jobs ----

async def delete(request: Request) -> Response:
    lab = request.path_params["lab"]
    portal = portal_of(request)
    portal.require_lab(lab)

    def work(progress):
        progress(f"removing lab {lab} (`mapslab down {lab}`)")
        result = lifecycle.down(lab)
        progress(f"removed {result.namespaces} namespaces and their processes")
        return {"namespaces": result.namespaces}
    job = portal.jobs.start(Kind.DELETE, lab, work)
    return JSONResponse({"job": job.id, "url": f"/jobs/{job.id}"}, status_code=202)


def _job(request: Request) -> Job:
    job = portal_of(request).jobs.get(request.path_params["job"])
    if job is None:
        raise PortalRefusal(f"no job {request.path_params['job']!r} in this run of the portal")
    return job


async def job_page(request: Request) -> Response:
    return portal_of(request).page(request, "job.html", {"job": _job(request)})


async def job_api(request: Request) -> Response:
    return JSONResponse(_job(request).to_json())


async def job_stream(request: Request) -> Response:
    job = _job(request)
    return stream.respond(request, job.to_json, lambda now: now["state"] != "running")


def routes() -> list[Route]:
    return [
        Route("/", peerings),
        Route("/peerings/{lab}", peering),
        Route("/peerings/{lab}/stream", peering_stream),
        Route("/peerings/{lab}/topology.yaml", topology_file),
        Route("/peerings/{lab}/registered-asns", registered_asns),
        Route("/peerings/{lab}/prefixes", prefixes),
        Route("/peerings/{lab}/notifications", notifications),
        Route("/peerings/{lab}/notifications/{key}", notification),
        Route("/api/peerings/{lab}", peering_api),
        Route("/api/peerings/{lab}/registered-asns", register, methods=["POST"]),
        Route("/api/peerings/{lab}/prefixes", activate, methods=["POST"]),
        Route("/api/peerings/{lab}/delete", delete, methods=["POST"]),
        Route("/jobs/{job}", job_page),
        Route("/jobs/{job}/stream", job_stream),
        Route("/api/jobs/{job}", job_api),
    ]
