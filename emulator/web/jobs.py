"""Long steps the portal runs in the background: deploy a lab, recover it, tear it down.

Each is one thread calling the CLI's own function with a progress callback; the pages follow its
lines live (server-sent events). A job's lab is known, so that the portal can say "being torn
down" instead of reading a lab that is going away.
"""
from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from emulator.core.errors import MapsLabError, ValidationFailed

Progress = Callable[[str], None]
Work = Callable[[Progress], dict[str, Any]]


class Kind:
    DEPLOY = "deploy"
    RECOVER = "recover"
    DELETE = "delete"


@dataclass
class Job:
    id: str
    kind: str
    lab: str
    started: float = field(default_factory=time.time)
    lines: list[str] = field(default_factory=list)
    state: str = "running"            # running | succeeded | failed
    result: dict[str, Any] = field(default_factory=dict)
    error: str = ""

    @property
    def done(self) -> bool:
        return self.state != "running"

    def to_json(self, since: int = 0) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "lab": self.lab, "state": self.state,
                "lines": self.lines[since:], "count": len(self.lines), "result": self.result,
                "error": self.error}


def _message(exc: BaseException) -> str:
    """One clear text for a failed job: the CLI's words, never a traceback."""
    if isinstance(exc, ValidationFailed):
        return exc.text
    if isinstance(exc, MapsLabError):
        return str(exc)
    if isinstance(exc, OSError):
        return f"{exc.filename or ''}: {exc.strerror or exc}".strip(": ")
    return f"{type(exc).__name__}: {exc}"


@dataclass
class Jobs:
    found: dict[str, Job] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, kind: str, lab: str, work: Work) -> Job:
        job = Job(secrets.token_hex(8), kind, lab)
        with self.lock:
            self.found[job.id] = job

        def progress(line: str) -> None:
            with self.lock:
                job.lines.append(line)

        def run() -> None:
            try:
                result = work(progress)
                with self.lock:
                    job.result, job.state = result, "succeeded"
            except BaseException as exc:        # the job's end is reported, whatever it was
                with self.lock:
                    job.error, job.state = _message(exc), "failed"

        threading.Thread(target=run, name=f"portal-{kind}-{lab}", daemon=True).start()
        return job

    def get(self, job_id: str) -> Job | None:
        return self.found.get(job_id)

    def running(self, lab: str, kind: str | None = None) -> Job | None:
        with self.lock:
            return next((j for j in self.found.values() if j.lab == lab and not j.done
                         and kind in (None, j.kind)), None)

    def unfinished(self) -> list[Job]:
        with self.lock:
            return [j for j in self.found.values() if not j.done]
