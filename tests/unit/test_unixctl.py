"""The unixctl JSON-RPC client: framing, errors and a daemon that is not there."""
from __future__ import annotations

import json
import socket
import threading
from pathlib import Path

import pytest

from emulator.core.errors import CommandFailed
from emulator.runtime.lag import unixctl


def _serve(path: Path, replies) -> threading.Thread:
    """A one-connection server: reads one request, sends what `replies(request)` returns in
    pieces of 7 bytes (the client must reassemble JSON split anywhere)."""
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(1)

    def run() -> None:
        conn, _ = server.accept()
        with conn, server:
            data = b""
            decoder = json.JSONDecoder()
            while True:
                data += conn.recv(4096)
                try:
                    req, _ = decoder.raw_decode(data.decode())
                    break
                except json.JSONDecodeError:
                    continue
            out = replies(req)
            for i in range(0, len(out), 7):
                conn.sendall(out[i:i + 7])

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_request_is_json_rpc_with_string_params() -> None:
    assert json.loads(unixctl.request("bond/show", ["b0"], 3)) == {
        "method": "bond/show", "params": ["b0"], "id": 3}


def test_reply_split_anywhere_and_notifications_skipped(tmp_path: Path) -> None:
    text = "---- lag ----\nbond_mode: balance-tcp\nµ\n"

    def replies(req: dict) -> bytes:
        assert req["method"] == "bond/show" and req["params"] == ["lag"]
        other = {"id": None, "method": "echo", "params": []}
        mine = {"id": req["id"], "result": text, "error": None}
        return (json.dumps(other) + json.dumps(mine, ensure_ascii=False)).encode()

    thread = _serve(tmp_path / "ctl", replies)
    assert unixctl.call(tmp_path / "ctl", "bond/show", "lag") == text
    thread.join(5)


def test_error_reply_raises(tmp_path: Path) -> None:
    thread = _serve(tmp_path / "ctl", lambda req: json.dumps(
        {"id": req["id"], "result": None, "error": "no such bond"}).encode())
    with pytest.raises(CommandFailed, match="no such bond"):
        unixctl.call(tmp_path / "ctl", "bond/show", "nope")
    thread.join(5)


def test_closed_before_reply_raises(tmp_path: Path) -> None:
    thread = _serve(tmp_path / "ctl", lambda req: b'{"id": ')
    with pytest.raises(CommandFailed, match="closed before the reply"):
        unixctl.call(tmp_path / "ctl", "lacp/show")
    thread.join(5)


def test_absent_daemon_raises(tmp_path: Path) -> None:
    with pytest.raises(CommandFailed, match="unixctl"):
        unixctl.call(tmp_path / "missing.ctl", "lacp/show", timeout=1)
