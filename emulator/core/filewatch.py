"""Wake when a file is written or replaced: Linux inotify on its directory, a poll elsewhere.

A file that is replaced atomically (written beside, then renamed over) gets a new inode, so the
watch is on the directory: IN_CLOSE_WRITE and IN_MOVED_TO of that name (inotify(7)). Watching
sleeps in the kernel: no wake-ups while nothing changes, none missed when something does.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import select
import struct
import time
from pathlib import Path

IN_CLOSE_WRITE = 0x00000008
IN_MOVED_TO = 0x00000080
IN_CREATE = 0x00000100
IN_NONBLOCK = 0o4000
IN_CLOEXEC = 0o2000000
_EVENT = struct.Struct("iIII")         # struct inotify_event: wd, mask, cookie, len (then name)


def _libc() -> ctypes.CDLL | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.inotify_init1            # noqa: B018 (present on Linux only)
    except (OSError, AttributeError):
        return None
    return libc


def names_in(buffer: bytes) -> list[str]:
    """The file names of the events in one read of an inotify descriptor."""
    names, offset = [], 0
    while offset + _EVENT.size <= len(buffer):
        _wd, _mask, _cookie, length = _EVENT.unpack_from(buffer, offset)
        offset += _EVENT.size
        names.append(buffer[offset:offset + length].rstrip(b"\0").decode(errors="replace"))
        offset += length
    return names


class FileWatch:
    """`wait(timeout)` returns True as soon as the file may have changed (written, replaced,
    created), False when the timeout passed without a sign of it. Without inotify (another
    kernel, a watch limit reached) it returns True after every timeout: the caller looks."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.fd = -1
        libc = _libc()
        if libc is None:
            return
        fd = libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if fd < 0:
            return
        mask = IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE
        if libc.inotify_add_watch(fd, str(self.path.parent).encode(), mask) < 0:
            os.close(fd)
            return
        self.fd = fd

    @property
    def kernel(self) -> bool:
        """Whether the kernel wakes us (inotify) rather than a timer."""
        return self.fd >= 0

    def wait(self, timeout: float) -> bool:
        if self.fd < 0:
            select.select([], [], [], timeout)
            return True
        deadline = time.monotonic() + timeout
        while True:                     # other files of the directory wake us too: read on
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self.fd], [], [], max(0.0, left))
            if not ready:
                return False
            try:
                data = os.read(self.fd, 64 * 1024)
            except BlockingIOError:
                continue
            if self.path.name in names_in(data):
                return True

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> "FileWatch":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
