"""The vty and BIRD control-socket clients against recorded byte streams.

tests/fixtures/control_sockets/*.bin are what bgpd and BIRD sent on their sockets in a lab;
*.vtysh.txt and *.birdc.txt are what the real vtysh and birdc printed when served those same
bytes (README.md there), so each test compares with the programs' own rendering.
"""
from __future__ import annotations

import socket
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from emulator.core.errors import CommandFailed
from emulator.nodes import birdctl, vty
from emulator.observe import control_sockets, observers

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "control_sockets"
BIRD_ROUTES = "show route table master4 where source = RTS_BGP || source = RTS_STATIC"


def recorded(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def _serve(path: Path, handle: Callable[[socket.socket], None]) -> threading.Thread:
    """A one-connection server on a Unix socket running `handle(connection)`."""
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(1)

    def run() -> None:
        conn, _ = server.accept()
        with conn, server:
            handle(conn)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _read_until(conn: socket.socket, count: int, byte: bytes) -> bytes:
    got = b""
    while got.count(byte) < count:
        chunk = conn.recv(4096)
        if not chunk:
            break
        got += chunk
    return got


def _pieces(conn: socket.socket, data: bytes, size: int = 7) -> None:
    """Send in small pieces: the client must reassemble a reply split anywhere."""
    try:
        for i in range(0, len(data), size):
            conn.sendall(data[i:i + size])
    except (BrokenPipeError, ConnectionResetError):
        pass                # the client stopped reading (a reply over its limit)


def _bgpd(directory: Path, data: bytes, sent: list[bytes] | None = None,
          hold: threading.Event | None = None) -> threading.Thread:
    """A bgpd.vty that reads `enable` and one command, answers `data`, then (if `hold`) waits."""
    def handle(conn: socket.socket) -> None:
        got = _read_until(conn, 2, b"\0")
        if sent is not None:
            sent.append(got)
        _pieces(conn, data)
        if hold is not None:
            hold.wait(5)
    return _serve(directory / "bgpd.vty", handle)


def _bird(ctl: Path, data: bytes, sent: list[bytes] | None = None,
          hold: threading.Event | None = None) -> threading.Thread:
    """A bird.ctl that greets with the first line of `data`, reads a command, sends the rest."""
    greeting, _, rest = data.partition(b"\n")

    def handle(conn: socket.socket) -> None:
        conn.sendall(greeting + b"\n")
        got = _read_until(conn, 1, b"\n")
        if sent is not None:
            sent.append(got)
        _pieces(conn, rest, 101)
        if hold is not None:
            hold.wait(5)
    return _serve(ctl, handle)


# --- FRR vty (vtysh/vtysh.c vtysh_client_run, lib/vty.c vtysh_read) ---------------------------

def test_command_is_nul_terminated() -> None:
    assert vty.encode("show bgp summary json") == b"show bgp summary json\0"
    with pytest.raises(ValueError):
        vty.encode("show\0bgp")


def test_recorded_stream_splits_into_replies() -> None:
    data = recorded("bgpd-summary.bin")
    enable = vty.split_reply(data)
    assert enable is not None and enable[:2] == (b"", 0)
    summary = vty.split_reply(enable[2])
    assert summary is not None
    assert summary[0].decode() == (FIXTURES / "bgpd-summary.vtysh.txt").read_text()
    assert summary[1:] == (0, b"")
    assert vty.split_reply(data[4:-1]) is None           # the status byte has not come
    assert vty.split_reply(data[4:-3]) is None
    with pytest.raises(ValueError, match="NUL inside"):
        vty.split_reply(b"{\0}\0\0\0\0")


def test_ask_sends_enable_then_the_command_and_returns_what_vtysh_prints(tmp_path: Path) -> None:
    sent: list[bytes] = []
    thread = _bgpd(tmp_path, recorded("bgpd-summary.bin"), sent)
    reply = vty.ask(tmp_path, "show bgp summary json")
    thread.join(5)
    assert sent == [b"enable\0show bgp summary json\0"]
    assert reply.output == (FIXTURES / "bgpd-summary.vtysh.txt").read_text()
    assert (reply.status, reply.exit_code) == (vty.CMD_SUCCESS, 0)


@pytest.mark.parametrize("status, exit_code", [(0, 0), (1, 0), (10, 0), (2, 1), (13, 1)])
def test_exit_code_follows_vtysh_main(status: int, exit_code: int) -> None:
    assert vty.VtyReply("", status).exit_code == exit_code


def test_truncated_reply_raises(tmp_path: Path) -> None:
    thread = _bgpd(tmp_path, recorded("bgpd-summary.bin")[:-2])
    with pytest.raises(CommandFailed, match="closed before the reply ended"):
        vty.ask(tmp_path, "show bgp summary json")
    thread.join(5)


def test_oversized_reply_raises(tmp_path: Path) -> None:
    thread = _bgpd(tmp_path, recorded("bgpd-summary.bin"))
    with pytest.raises(CommandFailed, match="larger than 1000 bytes"):
        vty.ask(tmp_path, "show bgp summary json", max_reply=1000)
    thread.join(5)


def test_reply_that_never_ends_times_out(tmp_path: Path) -> None:
    hold = threading.Event()
    thread = _bgpd(tmp_path, recorded("bgpd-summary.bin")[:100], hold=hold)
    with pytest.raises(CommandFailed, match="timed out"):
        vty.ask(tmp_path, "show bgp summary json", timeout=0.3)
    hold.set()
    thread.join(5)


def test_absent_daemon_raises(tmp_path: Path) -> None:
    with pytest.raises(CommandFailed, match="bgpd.vty"):
        vty.ask(tmp_path, "show bgp summary json", timeout=1)


@pytest.mark.parametrize("command, answered", [
    ("show bgp neighbors json", True), ("show bgp ipv6 unicast json", True),
    ("show ip bgp", True), ("show bgp summary json | include x", False),
    ("show bgp ?", False), ("show ip route", False), ("configure terminal", False),
    ("show bgpd", False), ("show bgp summary\nshow bgp", False)])
def test_only_bgpd_show_commands(command: str, answered: bool) -> None:
    assert vty.bgpd_show(command) is answered


# --- BIRD 2 control socket (nest/cli.c cli_printf, client/client.c server_got_reply) ----------

@pytest.mark.parametrize("line, shown", [
    ("0001 BIRD 2.0.12 ready.", ("BIRD 2.0.12 ready.", 1, True)),
    ("1002-device1    Device", ("device1    Device", 1002, False)),
    ("1006-", ("", 1006, False)),
    ("   BGP state:          Established", ("  BGP state:          Established", None, False)),
    ("0000 ", (None, 0, True)),
    ("9001 syntax error", ("syntax error", 9001, True)),
    ("+log message", (">>> log message", None, False)),
    ("garbage", ("??? <garbage>", None, False)),
    ("0000", ("??? <0000>", None, False))])
def test_reply_lines_print_as_birdc_prints_them(line: str, shown: tuple) -> None:
    assert birdctl.printed(line) == shown


@pytest.mark.parametrize("name, command, exit_code", [
    ("bird-protocols", "show protocols all", 0),
    ("bird-route-v4", BIRD_ROUTES, 0),
    ("bird-error", "show route table nosuch", 1)])
def test_ask_returns_what_birdc_prints(tmp_path: Path, name: str, command: str,
                                       exit_code: int) -> None:
    sent: list[bytes] = []
    thread = _bird(tmp_path / "bird.ctl", recorded(f"{name}.bin"), sent)
    reply = birdctl.ask(tmp_path / "bird.ctl", command)
    thread.join(5)
    assert sent == [command.encode() + b"\n"]
    assert reply.text == (FIXTURES / f"{name}.birdc.txt").read_text()
    assert reply.exit_code == exit_code


def test_bird_reply_cut_before_its_final_line_raises(tmp_path: Path) -> None:
    data = recorded("bird-route-v4.bin")
    thread = _bird(tmp_path / "bird.ctl", data[:data.rindex(b"0000 ")])
    with pytest.raises(CommandFailed, match="closed before the reply ended"):
        birdctl.ask(tmp_path / "bird.ctl", BIRD_ROUTES)
    thread.join(5)


def test_bird_oversized_reply_raises(tmp_path: Path) -> None:
    thread = _bird(tmp_path / "bird.ctl", recorded("bird-route-v4.bin"))
    with pytest.raises(CommandFailed, match="larger than 5000 bytes"):
        birdctl.ask(tmp_path / "bird.ctl", BIRD_ROUTES, max_reply=5000)
    thread.join(5)


def test_bird_line_birdc_would_mangle_raises(tmp_path: Path) -> None:
    long_line = b"1007-" + b"x" * birdctl.SERVER_READ_BUF_LEN + b"\n0000 \n"
    thread = _bird(tmp_path / "bird.ctl", b"0001 BIRD 2.0.12 ready.\n" + long_line)
    with pytest.raises(CommandFailed, match="longer than 4096"):
        birdctl.ask(tmp_path / "bird.ctl", "show status")
    thread.join(5)


def test_bird_silent_daemon_times_out(tmp_path: Path) -> None:
    hold = threading.Event()
    thread = _serve(tmp_path / "bird.ctl", lambda conn: hold.wait(5))
    with pytest.raises(CommandFailed, match="timed out"):
        birdctl.ask(tmp_path / "bird.ctl", "show status", timeout=0.3)
    hold.set()
    thread.join(5)


@pytest.mark.parametrize("command, answered", [
    ("show protocols all", True), ("show protocols", True), ("show status", True),
    (BIRD_ROUTES, True), ("show protocols all sea_pr1_v4", True), ("show ospf state all", True),
    ("show protocols a", False),          # birdc expands it to `show protocols all`
    ("show pro", False), ("show  route", False), ("show bfd", False), ("show", False),
    ("configure", False), ("show route\tall", False)])
def test_only_show_commands_birdc_sends_as_they_are(command: str, answered: bool) -> None:
    assert birdctl.birdc_show(command) is answered


# --- LocalHost: the socket where it answers, the spawn where it does not ---------------------

def test_vtysh_read_answered_from_the_socket(tmp_path: Path) -> None:
    thread = _bgpd(tmp_path, recorded("bgpd-summary.bin"))
    argv = ["vtysh", "--vty_socket", str(tmp_path), "-c", "show bgp summary json"]
    found = control_sockets.answer(argv, 3.0)
    thread.join(5)
    assert found is not None
    assert (found.args, found.returncode) == (argv, 0)
    assert found.stdout == (FIXTURES / "bgpd-summary.vtysh.txt").read_text()


def test_command_bgpd_did_not_parse_is_left_to_vtysh(tmp_path: Path) -> None:
    thread = _bgpd(tmp_path, recorded("bgpd-unknown.bin"))
    argv = ["vtysh", "--vty_socket", str(tmp_path), "-c", "show bgp nosuch"]
    assert control_sockets.answer(argv, 3.0) is None
    thread.join(5)


def test_birdc_read_answered_from_the_socket(tmp_path: Path) -> None:
    thread = _bird(tmp_path / "bird.ctl", recorded("bird-error.bin"))
    argv = ["birdc", "-s", str(tmp_path / "bird.ctl"), "show route table nosuch"]
    found = control_sockets.answer(argv, 3.0)
    thread.join(5)
    assert found is not None and found.returncode == 1
    assert found.stdout == (FIXTURES / "bird-error.birdc.txt").read_text()


def test_local_host_spawns_where_the_socket_fails(tmp_path: Path, monkeypatch) -> None:
    spawned: list[tuple[list[str], float]] = []

    def run(argv, **kwargs):
        spawned.append((argv, kwargs["timeout"]))
        return subprocess.CompletedProcess(argv, 0, "spawned\n", "")

    monkeypatch.setattr(observers.subprocess, "run", run)
    reads = [["vtysh", "--vty_socket", str(tmp_path), "-c", "show bgp neighbors json"],
             ["birdc", "-s", str(tmp_path / "bird.ctl"), "show protocols all"],
             ["vtysh", "--vty_socket", str(tmp_path), "-c", "show ip route"]]
    for argv in reads:
        assert observers.LOCAL.run("node", argv, timeout=3.0).stdout == "spawned\n"
    assert [argv for argv, _ in spawned] == reads
    assert all(0 < timeout <= 3.0 for _, timeout in spawned)
