"""What the portal answers when something goes wrong: one clear page (or JSON for the API),
never a traceback and never a hang.

The CLI's error tree maps to HTTP as to its exit codes: a lab that is not up is 404 (NoSuchLab:
never built, torn down, or removed from the CLI meanwhile), a step refused is 409 (WorkflowError,
FaultError, LabStateError: being built or torn down), a topology the CLI would not read is 422,
a missing tool is 503; anything else is 500 with its one-line message.
"""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from emulator.core.errors import (FaultError, LabStateError, MapsLabError, NoSuchLab,
                                  RuntimeUnavailable, TopologyError, UsageError, WorkflowError)


class PortalRefusal(MapsLabError):
    """A request the portal itself refuses (unknown draft or job, a bad form): 400."""


def status_of(exc: BaseException) -> tuple[int, str]:
    if isinstance(exc, NoSuchLab):
        return 404, "This lab is not up"
    if isinstance(exc, TopologyError):
        return 422, "The topology cannot be read"
    if isinstance(exc, (WorkflowError, FaultError, UsageError)):
        return 409, "The portal refused this step"
    if isinstance(exc, LabStateError):
        return 409, "The lab is busy"
    if isinstance(exc, RuntimeUnavailable):
        return 503, "Something this lab needs is missing on this host"
    if isinstance(exc, PortalRefusal):
        return 400, "The portal cannot do this"
    if isinstance(exc, FileNotFoundError):
        return 404, "This lab is not up"
    return 500, "The portal could not answer"


def message_of(exc: BaseException) -> str:
    if isinstance(exc, TopologyError):
        return "\n".join(p.render(exc.source) for p in exc.problems)
    if isinstance(exc, FileNotFoundError):
        return (f"{exc.filename or 'a file of the lab'} went away: the lab was removed or is "
                f"being torn down")
    if isinstance(exc, OSError):
        return f"{exc.filename or ''}: {exc.strerror or exc}".strip(": ")
    text = str(exc) or type(exc).__name__
    return text


def wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or \
        "application/json" in request.headers.get("accept", "")


async def handle(request: Request, exc: Exception) -> Response:
    status, title = status_of(exc)
    text = message_of(exc)
    if wants_json(request):
        return JSONResponse({"error": text, "title": title}, status_code=status)
    portal = request.app.state.portal
    return portal.page(request, "error.html", {"title": title, "message": text,
                                               "status": status}, status)
