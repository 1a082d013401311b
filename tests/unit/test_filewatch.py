"""A file replaced atomically wakes its watcher at once; other files in the directory do not."""
from __future__ import annotations

import os
import struct
import threading
import time

import pytest

from emulator.core.filewatch import FileWatch, names_in


def _replace(path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def test_names_in_decodes_each_event_of_a_read():
    def event(name: bytes) -> bytes:
        padded = name + b"\0" * (16 - len(name))
        return struct.pack("iIII", 1, 0x80, 0, len(padded)) + padded
    assert names_in(event(b"peering.json") + event(b"x.tmp")) == ["peering.json", "x.tmp"]
    assert names_in(b"") == []


def test_a_replaced_file_wakes_the_watch(tmp_path):
    target = tmp_path / "peering.json"
    _replace(target, "{}")
    with FileWatch(target) as watch:
        if not watch.kernel:
            pytest.skip("no inotify on this kernel")
        assert watch.wait(0.05) is False            # nothing changed: the timeout passes
        timer = threading.Timer(0.05, _replace, (target, '{"a": 1}'))
        timer.start()
        started = time.monotonic()
        woke = False
        while not woke and time.monotonic() - started < 10:
            woke = watch.wait(10)
        timer.join()
        assert woke


def test_other_files_of_the_directory_do_not_count(tmp_path):
    target = tmp_path / "peering.json"
    with FileWatch(target) as watch:
        if not watch.kernel:
            pytest.skip("no inotify on this kernel")
        (tmp_path / "routes.json").write_text("{}")
        assert watch.wait(0.2) is False
        target.write_text("{}")
        assert watch.wait(5) is True


def test_without_the_kernel_every_timeout_means_look(tmp_path, monkeypatch):
    monkeypatch.setattr("emulator.core.filewatch._libc", lambda: None)
    with FileWatch(tmp_path / "peering.json") as watch:
        assert not watch.kernel
        assert watch.wait(0.01) is True
