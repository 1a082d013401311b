"""Server-sent events (WHATWG HTML, 9.2): the pages' live state.

A stream reads a snapshot in a worker thread (the observers block), sends it when it changed,
and reads again after REFRESH_SECONDS: a refresh period, not a wait for a condition. It ends
when the snapshot says the subject is gone (event `gone`, the page then shows why), when the
browser leaves, or after STREAM_SECONDS, when the browser's EventSource reconnects by itself:
no stream outlives its reader for long.
"""
from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import StreamingResponse

from emulator.core.errors import MapsLabError

REFRESH_SECONDS = 1.0
STREAM_SECONDS = 300.0
# EventSource reconnects after this many milliseconds (the `retry` field).
RETRY_MS = 2000

Snapshot = Callable[[], dict[str, Any]]


def event(name: str, data: object) -> str:
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


async def _events(request: Request, snapshot: Snapshot, final: Callable[[dict], bool]
                  ) -> AsyncIterator[str]:
    yield f"retry: {RETRY_MS}\n\n"
    last = None
    ends = time.monotonic() + STREAM_SECONDS
    while time.monotonic() < ends:
        try:
            now = await run_in_threadpool(snapshot)
        except (MapsLabError, OSError) as exc:
            yield event("gone", {"error": str(exc)})
            return
        if now != last:
            yield event("state", now)
            last = now
        if final(now) or await request.is_disconnected():
            return
        await asyncio.sleep(REFRESH_SECONDS)


def respond(request: Request, snapshot: Snapshot,
            final: Callable[[dict], bool] = lambda _: False) -> StreamingResponse:
    return StreamingResponse(_events(request, snapshot, final), media_type="text/event-stream",
                             headers={"cache-control": "no-store", "x-accel-buffering": "no"})
