"""Serving the portal: a socket bound first (so the URL names the real port), then uvicorn.

It listens on loopback unless told otherwise. Ctrl-C stops the server and nothing else: labs
stay as they are (`mapslab down` removes them); a deployment still running is left half-built
and said so.
"""
from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from pathlib import Path

import uvicorn

from emulator.core.errors import UsageError
from emulator.web.app import Portal, build

# Streams close at shutdown after this long (uvicorn's graceful shutdown would wait for them).
SHUTDOWN_SECONDS = 2


def bind(listen: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in listen else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((listen, port))
    except OSError as exc:
        sock.close()
        raise UsageError(f"cannot listen on {listen} port {port}: {exc.strerror or exc}") from None
    sock.listen(64)
    sock.set_inheritable(True)
    return sock


def url(listen: str, port: int, token: str) -> str:
    host = listen
    try:
        address = ipaddress.ip_address(listen)
        if address.is_unspecified:
            host = "127.0.0.1" if address.version == 4 else "::1"
        if ":" in host:
            host = f"[{host}]"
    except ValueError:
        pass                                  # a host name, as given
    return f"http://{host}:{port}/?token={token}"


def serve(listen: str, port: int, workspace: Path, say: Callable[[str], None] = print) -> Portal:
    """Serve until interrupted; return the portal (its jobs tell what was left running)."""
    portal = Portal(workspace)
    app = build(workspace, portal)
    sock = bind(listen, port)
    say(f"portal at {url(listen, sock.getsockname()[1], portal.gate.token)}")
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off",
                            timeout_graceful_shutdown=SHUTDOWN_SECONDS)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:
        pass            # uvicorn raises the Ctrl-C again once it has shut down: it is our stop
    finally:
        sock.close()
    return portal
