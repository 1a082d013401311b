"""The Create wizard: Basics, Configuration (with the connection dialog), Review + create; and
opening a topology file in the portal.

Each step stores its fields in the draft and answers with the findings of its own tab, as the
CLI's validator gives them (emulator.web.draft); Review + create answers with all of them, each
on its field. Create writes the topology file and runs `lifecycle.up` on it, as `mapslab up
FILE --turnup manual` would, in the background with its progress streamed.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from emulator.core.errors import LabStateError
from emulator.lab import lifecycle
from emulator.web import draft as drafts
from emulator.web.draft import Draft
from emulator.web.errors import PortalRefusal
from emulator.web.jobs import Kind
from emulator.web.views_peering import json_body, portal_of


def _draft(request: Request) -> Draft:
    found = portal_of(request).drafts.get(request.path_params["draft"])
    if found is None:
        raise PortalRefusal(f"no draft {request.path_params['draft']!r} in this run of the "
                            f"portal (drafts last as long as the portal runs): start again at "
                            f"Create")
    return found


async def new(request: Request) -> Response:
    draft = portal_of(request).drafts.add(drafts.blank())
    return RedirectResponse(f"/create/{draft.id}", status_code=303)


async def wizard(request: Request) -> Response:
    draft = _draft(request)
    return portal_of(request).page(request, "create.html", {
        "draft": draft, "values": drafts.values(draft), "metros": drafts.METROS,
        "bandwidths": drafts.BANDWIDTHS})


def _checked(draft: Draft, tab: str, only: str | None = None) -> dict[str, Any]:
    checked = drafts.check(draft)
    return {"findings": drafts.for_tab(checked, tab, only), "errors": checked.errors,
            "values": drafts.values(draft)}


async def basics(request: Request) -> Response:
    draft = _draft(request)
    drafts.set_basics(draft, await json_body(request))
    return JSONResponse(await run_in_threadpool(_checked, draft, "basics"))


async def configuration(request: Request) -> Response:
    draft = _draft(request)
    drafts.set_configuration(draft, await json_body(request))
    return JSONResponse(await run_in_threadpool(_checked, draft, "configuration"))


async def add_connection(request: Request) -> Response:
    draft = _draft(request)
    index = drafts.add_connection(draft, await json_body(request))
    answer = await run_in_threadpool(_checked, draft, "configuration", f"connections[{index}]")
    return JSONResponse({"index": index, **answer})


async def remove_connection(request: Request) -> Response:
    draft = _draft(request)
    drafts.remove_connection(draft, int(request.path_params["index"]))
    return JSONResponse(await run_in_threadpool(_checked, draft, "configuration"))


async def review(request: Request) -> Response:
    draft = _draft(request)
    checked = await run_in_threadpool(drafts.check, draft)
    return JSONResponse({"ok": checked.ok, "errors": checked.errors,
                         "findings": [f.to_json() for f in checked.findings],
                         "topology": drafts.text(draft)})


async def create(request: Request) -> Response:
    """Review + create's Create: refused while the validator finds an error, else deploy."""
    portal = portal_of(request)
    draft = _draft(request)
    body = await json_body(request)
    turnup = "auto" if body.get("turnup") == "auto" else "manual"
    checked = await run_in_threadpool(drafts.check, draft)
    if not checked.ok:
        return JSONResponse({"ok": False, "errors": checked.errors,
                             "findings": [f.to_json() for f in checked.findings]},
                            status_code=422)
    lab = str(draft.data["lab"])
    if portal.jobs.running(lab):
        raise LabStateError(f"lab {lab!r} is already being deployed or removed")
    path = drafts.save(draft, portal.workspace)

    def work(progress):
        progress(f"wrote {path}; deploying as `mapslab up {path} --turnup {turnup}`")
        running = lifecycle.up(path, progress=progress, turnup=turnup)
        try:
            return {"lab": lab, "degraded": list(running.degraded), "file": str(path)}
        finally:
            running.close()
    job = portal.jobs.start(Kind.DEPLOY, lab, work)
    return JSONResponse({"ok": True, "job": job.id, "url": f"/jobs/{job.id}", "lab": lab,
                         "file": str(path)}, status_code=202)


async def save(request: Request) -> Response:
    path = drafts.save(_draft(request), portal_of(request).workspace)
    return JSONResponse({"file": str(path)})


async def download(request: Request) -> Response:
    draft = _draft(request)
    lab = str(draft.data.get("lab") or "draft")
    return PlainTextResponse(drafts.text(draft), media_type="application/yaml", headers={
        "content-disposition": f'attachment; filename="{lab}.yaml"'})


# ---- a topology file opened in the portal ----

def _candidates(workspace: Path) -> list[str]:
    """Topology files near where the portal runs, offered on the Open screen."""
    found = []
    for folder in (workspace, Path("topologies")):
        if folder.is_dir():
            found += sorted(str(p) for p in folder.glob("*.yaml"))
    return found


async def open_page(request: Request) -> Response:
    portal = portal_of(request)
    return portal.page(request, "open.html", {"candidates": _candidates(portal.workspace)})


async def open_file(request: Request) -> Response:
    body = await json_body(request)
    path = Path(str(body.get("path", "")).strip())
    if path.suffix not in (".yaml", ".yml"):
        # Only topology files: the portal never reads (and quotes in its errors) other files.
        raise PortalRefusal(f"{str(path)!r} is not a topology file (.yaml or .yml)")
    if not path.is_file():
        raise PortalRefusal(f"no topology file at {str(path)!r}")
    data, base = await run_in_threadpool(drafts.opened, path)
    found = portal_of(request).drafts.add(data, str(path), base)
    return JSONResponse({"draft": found.id, "url": f"/create/{found.id}"})


def routes() -> list[Route]:
    return [
        Route("/create", new),
        Route("/create/{draft}", wizard),
        Route("/create/{draft}/topology.yaml", download),
        Route("/open", open_page),
        Route("/api/open", open_file, methods=["POST"]),
        Route("/api/drafts/{draft}/basics", basics, methods=["POST"]),
        Route("/api/drafts/{draft}/configuration", configuration, methods=["POST"]),
        Route("/api/drafts/{draft}/connections", add_connection, methods=["POST"]),
        Route("/api/drafts/{draft}/connections/{index:int}", remove_connection,
              methods=["DELETE"]),
        Route("/api/drafts/{draft}/review", review, methods=["POST"]),
        Route("/api/drafts/{draft}/create", create, methods=["POST"]),
        Route("/api/drafts/{draft}/save", save, methods=["POST"]),
    ]
