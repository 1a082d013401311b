"""Ask an FRR daemon over its vty socket, as vtysh does: no `vtysh` process per read.

`vtysh --vty_socket DIR -c CMD` connects to DIR/DAEMON.vty, sends `enable` and then CMD to the
daemons that own the command (for `show bgp ...` and `show ip bgp ...`, bgpd alone) and prints
their output. The stream protocol (FRR 8.4, vtysh/vtysh.c vtysh_client_run, lib/vty.c
vtysh_read): each command is sent NUL-terminated; the daemon answers with the command's output,
then three NUL bytes and one status byte (lib/command.h CMD_SUCCESS, CMD_WARNING, ...). The
output itself holds no NUL: vtysh prints it as a C string. A spawn of vtysh costs tens of
milliseconds; this costs a socket round trip.
"""
from __future__ import annotations

import re
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from emulator.core.errors import CommandFailed

CALL_TIMEOUT = 3.0                  # seconds for the command and its whole reply
MAX_REPLY = 64 * 1024 * 1024        # a larger reply is left to vtysh itself
TERMINATOR = b"\0\0\0"              # lib/vty.c vtysh_read: header[0..2], then the status byte

# lib/command.h return codes that vtysh -c accepts (vtysh/vtysh_main.c: exit(1) otherwise).
CMD_SUCCESS = 0
CMD_WARNING = 1
CMD_SUCCESS_DAEMON = 10
_EXIT_ZERO = frozenset({CMD_SUCCESS, CMD_WARNING, CMD_SUCCESS_DAEMON})
# The daemon did not parse the command (CMD_ERR_NO_MATCH, _AMBIGUOUS, _INCOMPLETE): vtysh parses
# it first and says so in words of its own, so such a reply is not what vtysh would print.
NOT_PARSED = frozenset({2, 3, 4})

# Read-only commands that bgpd alone answers (every `show bgp`/`show ip bgp` DEFUN is bgpd's);
# a pipe (`| include`), a help request (`?`) or a second line is vtysh's own business.
_BGPD_SHOW = re.compile(r"show (ip )?bgp( [^|?\n\r\0]*)?")


@dataclass(frozen=True)
class VtyReply:
    """What the daemon answered to one command: its output text and lib/command.h status."""

    output: str
    status: int

    @property
    def exit_code(self) -> int:
        """vtysh -c's exit status for this reply."""
        return 0 if self.status in _EXIT_ZERO else 1


def bgpd_show(command: str) -> bool:
    """Whether `command` is a read-only show command that bgpd alone answers."""
    return _BGPD_SHOW.fullmatch(command) is not None


def encode(command: str) -> bytes:
    """One command on the wire: its text, NUL-terminated (vtysh_client_run: strlen(line) + 1)."""
    if "\0" in command:
        raise ValueError("a vty command holds no NUL")
    return command.encode() + b"\0"


def split_reply(buffer: bytes, start: int = 0) -> tuple[bytes, int, bytes] | None:
    """(output, status, the bytes after it) once `buffer` holds a whole reply, else None;
    `start`: where to look for the terminator (the bytes before it hold no NUL).

    Raises ValueError where the stream breaks the framing (a NUL not starting the terminator)."""
    end = buffer.find(b"\0", start)
    if end < 0 or len(buffer) < end + 4:
        return None
    if buffer[end:end + 3] != TERMINATOR:
        raise ValueError(f"a NUL inside the output at byte {end}")
    return buffer[:end], buffer[end + 3], buffer[end + 4:]


def path_in(directory: Path | str, daemon: str = "bgpd") -> Path:
    """The daemon's vty socket in the directory given to `--vty_socket`."""
    return Path(directory) / f"{daemon}.vty"


def _replies(sock: socket.socket, count: int, deadline: float, limit: int,
             argv: list[str]) -> list[tuple[bytes, int]]:
    """Read `count` replies off the stream, within the deadline and the size limit."""
    found: list[tuple[bytes, int]] = []
    buffer = bytearray()
    scanned = total = 0
    while len(found) < count:
        whole = split_reply(buffer, scanned)
        if whole is not None:
            output, status, rest = whole
            found.append((bytes(output), status))
            buffer, scanned = bytearray(rest), 0
            continue
        if b"\0" not in buffer[scanned:]:
            scanned = len(buffer)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise CommandFailed(argv, -1, "timed out waiting for the reply")
        sock.settimeout(remaining)
        chunk = sock.recv(65536)
        if not chunk:
            raise CommandFailed(argv, -1, "connection closed before the reply ended")
        total += len(chunk)
        if total > limit:
            raise CommandFailed(argv, -1, f"reply larger than {limit} bytes")
        buffer += chunk
    return found


def ask(directory: Path | str, command: str, daemon: str = "bgpd",
        timeout: float = CALL_TIMEOUT, max_reply: int = MAX_REPLY) -> VtyReply:
    """Run one command on the daemon as `vtysh --vty_socket DIRECTORY -c COMMAND` would.

    Raises CommandFailed when the socket is missing, refuses, breaks the framing, the reply does
    not come within `timeout` seconds, or exceeds `max_reply` bytes."""
    path = path_in(directory, daemon)
    argv = ["vty", str(path), command]
    deadline = time.monotonic() + timeout
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(path))
            # vtysh -c enters the enable node first (vtysh_main.c), then sends the command.
            sock.sendall(encode("enable") + encode(command))
            replies = _replies(sock, 2, deadline, max_reply, argv)
    except (OSError, ValueError) as exc:
        raise CommandFailed(argv, -1, str(exc) or type(exc).__name__) from exc
    output, status = replies[-1]
    try:
        return VtyReply(output.decode(), status)
    except UnicodeDecodeError as exc:
        raise CommandFailed(argv, -1, f"output is not UTF-8: {exc}") from exc

