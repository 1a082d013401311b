"""Ask BIRD 2 over its control socket, as birdc does: no `birdc` process per read.

The protocol (BIRD 2.0.12 nest/cli.c cli_printf, client/client.c): BIRD greets a connection with
`0001 BIRD 2.0.12 ready.`; a command is one line; each reply line starts with a 4-digit code and
'-' when more lines of the reply follow, ' ' on the reply's last line; a further line of the same
code starts with a space instead; '+' starts an asynchronous message. Codes 0xxx end a command,
1xxx-2xxx are data, 8xxx run-time errors and 9xxx parse errors. birdc (non-verbose,
server_got_reply) prints each line without its prefix, skips code 0 lines, and exits 1 when the
last code was 8000 or more. birdc prints the greeting too.
"""
from __future__ import annotations

import re
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from emulator.core.errors import CommandFailed

CALL_TIMEOUT = 3.0                  # seconds for the greeting, the command and its whole reply
MAX_REPLY = 64 * 1024 * 1024        # a larger reply is left to birdc itself
# client/client.c SERVER_READ_BUF_LEN: birdc mangles a longer line ("?<too-long>"); BIRD's own
# lines are at most CLI_LINE_SIZE (512), so such a line is left to birdc itself.
SERVER_READ_BUF_LEN = 4096
FIRST_ERROR_CODE = 8000             # client.c init_commands: exit((last_code < 8000) ? 0 : 1)

# birdc reads `%d` from the line (sscanf) and wants the reply's separator at index 4.
_CODE = re.compile(r"\s*[+-]?\d+")

# The `show` commands of birdc's command tree (client/commands.c cmd_build_tree, from BIRD
# 2.0.12's CF_CLI list): keyword → the keywords that may follow it.
_SHOW: dict[str, dict] = {
    "babel": {"entries": {}, "interfaces": {}, "neighbors": {}, "routes": {}},
    "bfd": {"sessions": {}},
    "interfaces": {"summary": {}},
    "memory": {},
    "ospf": {"interface": {}, "lsadb": {}, "neighbors": {}, "state": {"all": {}},
             "topology": {"all": {}}},
    "protocols": {"all": {}},
    "rip": {"interfaces": {}, "neighbors": {}},
    "route": {},
    "static": {},
    "status": {},
    "symbols": {},
}
_NOT_COMMANDS = {("babel",), ("bfd",), ("rip",)}     # help entries only: "No such command"


@dataclass(frozen=True)
class BirdReply:
    """What birdc would print for one command (greeting included) and the last reply code."""

    text: str
    last_code: int

    @property
    def exit_code(self) -> int:
        return 0 if self.last_code < FIRST_ERROR_CODE else 1


def birdc_show(command: str) -> bool:
    """Whether birdc would send `command` as it is: a `show` command whose keywords are spelt
    out in full (birdc's cmd_expand completes abbreviations, which this client does not)."""
    words = command.split(" ")
    if len(words) < 2 or words[0] != "show" or any(c in command for c in "\n\r\0\t"):
        return False
    node, path = _SHOW, []
    for word in words[1:]:
        if word in node:
            node, path = node[word], path + [word]
        elif word == "" or any(k.startswith(word) for k in node):
            return False        # doubled space, or an abbreviation birdc would expand
        else:
            break               # the command's arguments start here
    return bool(path) and tuple(path) not in _NOT_COMMANDS


def printed(line: str) -> tuple[str | None, int | None, bool]:
    """One reply line as birdc prints it (None: nothing), its code (None: not a code line) and
    whether it ends the reply (client.c server_got_reply, non-verbose)."""
    if line.startswith("+"):
        return ">>> " + line[1:], None, False
    if line.startswith(" "):
        return line[1:], None, False
    found = _CODE.match(line)
    if len(line) > 4 and found and 0 <= int(found.group()) < 10000 and line[4] in " -":
        code = int(found.group())
        return (line[5:] if code else None), code, line[4] == " "
    return f"??? <{line}>", None, False


class _Reader:
    """Reply lines off the stream, within a deadline and a size limit."""

    def __init__(self, sock: socket.socket, deadline: float, limit: int, argv: list[str]):
        self.sock, self.deadline, self.limit, self.argv = sock, deadline, limit, argv
        self.partial = b""                  # the start of a line whose end has not come
        self.ready: list[bytes] = []        # whole lines not yet taken, last first
        self.total = 0

    def _receive(self) -> None:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise CommandFailed(self.argv, -1, "timed out waiting for the reply")
        self.sock.settimeout(remaining)
        chunk = self.sock.recv(65536)
        if not chunk:
            raise CommandFailed(self.argv, -1, "connection closed before the reply ended")
        self.total += len(chunk)
        if self.total > self.limit:
            raise CommandFailed(self.argv, -1, f"reply larger than {self.limit} bytes")
        *whole, self.partial = (self.partial + chunk).split(b"\n")
        if len(self.partial) >= SERVER_READ_BUF_LEN:
            raise CommandFailed(self.argv, -1, f"a line longer than {SERVER_READ_BUF_LEN} bytes")
        self.ready = whole[::-1]

    def line(self) -> str:
        while not self.ready:
            self._receive()
        raw = self.ready.pop()
        if len(raw) >= SERVER_READ_BUF_LEN:
            raise CommandFailed(self.argv, -1, f"a line longer than {SERVER_READ_BUF_LEN} bytes")
        if b"\0" in raw:
            raise CommandFailed(self.argv, -1, "a NUL in a line (birdc prints up to it)")
        try:
            return raw.decode()
        except UnicodeDecodeError as exc:
            raise CommandFailed(self.argv, -1, f"a line that is not UTF-8: {exc}") from exc

    def reply(self, out: list[str]) -> int:
        """Read one whole reply, adding what birdc prints to `out`; its last code."""
        last = 0
        while True:
            text, code, final = printed(self.line())
            if text is not None:
                out.append(text)
            if code is not None:
                last = code
            if final:
                return last


def ask(ctl: Path | str, command: str, timeout: float = CALL_TIMEOUT,
        max_reply: int = MAX_REPLY) -> BirdReply:
    """Run one command as `birdc -s CTL COMMAND` would and return what it prints.

    Raises CommandFailed when the socket is missing, refuses, closes early, the reply does not
    come within `timeout` seconds or exceeds `max_reply` bytes."""
    argv = ["bird.ctl", str(ctl), command]
    deadline = time.monotonic() + timeout
    out: list[str] = []
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(ctl))
            reader = _Reader(sock, deadline, max_reply, argv)
            reader.reply(out)                       # the greeting, printed by birdc too
            sock.sendall(command.encode() + b"\n")  # client.c server_send
            last = reader.reply(out)
    except OSError as exc:
        raise CommandFailed(argv, -1, str(exc) or type(exc).__name__) from exc
    return BirdReply("".join(f"{line}\n" for line in out), last)
