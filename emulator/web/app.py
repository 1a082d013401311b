"""The portal's ASGI application: its pages, its API, its assets, its guard.

`build(workspace)` makes one portal: a fresh token (emulator.web.auth), the Create wizard's
drafts, the background jobs, and the routes of the three groups of screens: the page's
turn-up (views_create, views_peering) and the lab view (views_lab).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from emulator.core.errors import LabStateError, MapsLabError
from emulator.web import errors, labs
from emulator.web.auth import Gate, TokenGate
from emulator.web.draft import Drafts
from emulator.web.jobs import Jobs, Kind

HERE = Path(__file__).resolve().parent


def _utc(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def _templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.filters["utc"] = _utc
    return templates


@dataclass
class Portal:
    """One run of the portal: its gate, where it writes topology files, drafts and jobs."""

    workspace: Path
    gate: Gate = field(default_factory=Gate)
    drafts: Drafts = field(default_factory=Drafts)
    jobs: Jobs = field(default_factory=Jobs)
    templates: Jinja2Templates = field(default_factory=lambda: _templates())

    def page(self, request: Request, name: str, context: dict[str, Any] | None = None,
             status: int = 200) -> Response:
        session = getattr(request.state, "session", None)
        context = {"csrf": session.csrf if session else "", **(context or {})}
        response = self.templates.TemplateResponse(request, name, context, status_code=status)
        response.headers["cache-control"] = "no-store"
        return response

    def require_lab(self, lab: str, up: bool = False) -> None:
        """Refuse, with a clear reason, a lab being torn down (by this portal) or, when `up`,
        one still being built; NoSuchLab for one that is not there."""
        if self.jobs.running(lab, Kind.DELETE):
            raise LabStateError(f"lab {lab!r} is being torn down")
        _, state = labs.state(lab)
        if up and state.phase != "up":
            building = self.jobs.running(lab, Kind.DEPLOY)
            where = f" (its progress: /jobs/{building.id})" if building else ""
            raise LabStateError(f"lab {lab!r} is still being built{where}; its lab view opens "
                                f"once it is up")


def build(workspace: Path | str = "portal", portal: Portal | None = None) -> Starlette:
    """The portal's application; `portal.gate.token` is what its URL must carry."""
    from emulator.web import views_create, views_lab, views_peering
    portal = portal or Portal(Path(workspace))
    routes = [*views_peering.routes(), *views_create.routes(), *views_lab.routes(),
              Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")]
    app = Starlette(routes=routes,
                    middleware=[Middleware(TokenGate, gate=portal.gate)],
                    exception_handlers={MapsLabError: errors.handle, OSError: errors.handle,
                                        Exception: errors.handle})
    app.state.portal = portal
    return app
