"""A traffic probe: sequenced UDP from an endpoint behind the exchange to Microsoft's anycast
service address, echoed by a reflector on every Microsoft edge router.

Bounded in count and in time on both ends. The sender reports every packet (sent, echoed or
lost, which edge echoed it), from which loss, reordering and the longest outage are derived.
Run inside lab namespaces only: `python -m emulator.judge.probe reflect|send ...`.
"""
from __future__ import annotations

import argparse
import json
import os
import select
import socket
import struct
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

PORT = 31975
HEADER = struct.Struct("!Id")        # sequence number, send time
MAX_COUNT = 100_000
MAX_SECONDS = 300.0
LINGER = 1.0                          # seconds to wait for late echoes after the last send


@dataclass(frozen=True)
class ProbeResult:
    sent: int
    received: int
    reordered: int
    duplicates: int
    interval_ms: float
    longest_gap_ms: float           # the longest run without echoes, measured on send times
    responders: dict[str, int] = field(default_factory=dict)
    lost_sequences: tuple[int, ...] = ()
    first_lost_at: float | None = None
    last_lost_at: float | None = None

    @property
    def lost(self) -> int:
        return self.sent - self.received


def summarize(sent_times: list[float], echoes: list[tuple[int, str]], interval: float) -> ProbeResult:
    """Turn the send times and the echoes (sequence, responder) in arrival order into figures."""
    seen: set[int] = set()
    duplicates = reordered = 0
    highest = -1
    responders: dict[str, int] = {}
    for seq, responder in echoes:
        if seq in seen:
            duplicates += 1
            continue
        seen.add(seq)
        responders[responder] = responders.get(responder, 0) + 1
        if seq < highest:
            reordered += 1
        highest = max(highest, seq)
    received = sorted(seen)
    gaps = [0.0]
    edges = [-1] + received + [len(sent_times)]
    for before, after in zip(edges, edges[1:]):
        if after - before > 1:
            start = sent_times[before + 1]
            end = sent_times[after] if after < len(sent_times) else sent_times[-1] + interval
            gaps.append((end - start) * 1000)
    lost = tuple(s for s in range(len(sent_times)) if s not in seen)
    return ProbeResult(len(sent_times), len(received), reordered, duplicates, interval * 1000,
                       max(gaps), responders, lost,
                       sent_times[lost[0]] if lost else None, sent_times[lost[-1]] if lost else None)


def note_responder(progress: str, seq: int, responder: str) -> None:
    """Replace the progress file with the latest echo's responder (one atomic rename), so that
    the controller knows which path carries the probe at any moment."""
    tmp = f"{progress}.tmp"
    with open(tmp, "w") as out:
        out.write(f"{seq} {responder}\n")
    os.replace(tmp, progress)


def send(src: str, dst: str, count: int, rate: float, port: int = PORT,
         progress: str = "") -> ProbeResult:
    count = min(count, MAX_COUNT)
    interval = 1.0 / rate
    if count * interval > MAX_SECONDS:
        raise ValueError(f"{count} packets at {rate}/s exceed the {MAX_SECONDS:.0f} s bound")
    family = socket.AF_INET6 if ":" in dst else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.bind((src, 0))
    sock.setblocking(False)
    sent_times: list[float] = []
    echoes: list[tuple[int, str]] = []
    start = time.monotonic()
    deadline = start + count * interval + LINGER
    while True:
        now = time.monotonic()
        if len(sent_times) < count and now >= start + len(sent_times) * interval:
            try:
                sock.sendto(HEADER.pack(len(sent_times), time.time()), (dst, port))
            except OSError:
                pass      # no route during a failure counts as a loss
            sent_times.append(time.time())
            continue
        if now >= deadline:
            break
        next_send = start + len(sent_times) * interval if len(sent_times) < count else deadline
        ready, _, _ = select.select([sock], [], [], max(0.0, min(next_send, deadline) - now))
        if ready:
            try:
                data = sock.recv(2048)
            except OSError:
                continue
            if len(data) >= HEADER.size:
                seq, _ = HEADER.unpack_from(data)
                responder = data[HEADER.size:].decode(errors="replace")
                if progress and (not echoes or echoes[-1][1] != responder):
                    note_responder(progress, seq, responder)
                echoes.append((seq, responder))
    sock.close()
    return summarize(sent_times, echoes, interval)


def reflect(bind: str, name: str, seconds: float, ready_file: str, port: int = PORT) -> int:
    """Echo every probe packet back with this node's name, for at most `seconds`."""
    family = socket.AF_INET6 if ":" in bind else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.bind((bind, port))
    Path(ready_file).write_text("ready\n")
    deadline = time.monotonic() + min(seconds, MAX_SECONDS)
    tag = name.encode()
    echoed = 0
    while echoed < MAX_COUNT * 2:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        ready, _, _ = select.select([sock], [], [], remaining)
        if ready:
            data, peer = sock.recvfrom(2048)
            sock.sendto(data[:HEADER.size] + tag, peer)
            echoed += 1
    return 0


def main(argv: list[str] | None = None) -> int:
    top = argparse.ArgumentParser(prog="python -m emulator.judge.probe")
    sub = top.add_subparsers(dest="mode", required=True)
    r = sub.add_parser("reflect")
    r.add_argument("--bind", required=True)
    r.add_argument("--name", required=True)
    r.add_argument("--seconds", type=float, required=True)
    r.add_argument("--ready-file", required=True)
    s = sub.add_parser("send")
    s.add_argument("--src", required=True)
    s.add_argument("--dst", required=True)
    s.add_argument("--count", type=int, required=True)
    s.add_argument("--rate", type=float, required=True)
    s.add_argument("--progress", default="", help="a file naming the latest echo's responder")
    args = top.parse_args(argv)
    if args.mode == "reflect":
        return reflect(args.bind, args.name, args.seconds, args.ready_file)
    result = send(args.src, args.dst, args.count, args.rate, progress=args.progress)
    json.dump({**result.__dict__, "lost": result.lost}, sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
