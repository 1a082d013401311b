"""The timeline's one writer and its typed events: the JSON lines keep their shape."""
from __future__ import annotations

import json

import pytest

from emulator.core import events
from emulator.core.errors import LabStateError
from emulator.core.events import Event, EventKind
from emulator.core.labdir import LabDir
from emulator.observe.timeline import Timeline


def lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_line_is_time_and_kind_then_the_fields_in_order(tmp_path):
    path = tmp_path / "events.jsonl"
    written = events.append(path, EventKind.LAG_UP, node="sea-ms1", lag="sea-1-a", members_up=2)
    events.append(path, "bgp-state", node="sea-ms1", lag="sea-1-a", peer="10.0.0.0", state="up")
    first, second = lines(path)
    assert list(first) == ["time", "kind", "node", "lag", "members_up"]
    assert first == {"time": written.time, "kind": "lag-up", "node": "sea-ms1",
                     "lag": "sea-1-a", "members_up": 2}
    assert second["kind"] == "bgp-state" and second["time"] >= first["time"]


def test_the_writer_refuses_an_unknown_kind_and_reserved_field_names(tmp_path):
    path = tmp_path / "events.jsonl"
    with pytest.raises(ValueError):
        events.append(path, "lag-upp", lag="sea-1-a")
    with pytest.raises(ValueError, match="time"):
        events.append(path, EventKind.FAULT, time=1.0)
    assert not path.exists()


def test_the_writer_does_not_create_a_removed_lab(tmp_path):
    with pytest.raises(FileNotFoundError):
        events.append(tmp_path / "gone" / "events.jsonl", EventKind.BGP_STATE, state="down")
    assert not (tmp_path / "gone").exists()


def test_labdir_writes_through_the_writer_and_reads_the_same_dicts(tmp_path):
    labdir = LabDir("unit", root=tmp_path)
    event = labdir.event(EventKind.LAB_CREATED, lab="unit")
    assert labdir.events() == [{"time": event.time, "kind": "lab-created", "lab": "unit"}]
    assert Event.parse(labdir.events()[0]) == event


def test_parse_is_the_inverse_of_record():
    event = Event(1.5, EventKind.LAG_STATE, {"lag": "x", "side": "edge", "up": True})
    assert Event.parse(json.loads(json.dumps(event.record()))) == event
    assert event.get("side") == "edge" and event.get("missing", 7) == 7
    for bad in ({"kind": "lag-up"}, {"time": 1.0}, {"time": None, "kind": "lag-up"},
                {"time": 1.0, "kind": "nonsense"}):
        with pytest.raises(ValueError):
            Event.parse(bad)


def test_kinds_compare_and_print_as_their_names():
    assert EventKind.LAG_UP == "lag-up" and "lag-up" in {EventKind.LAG_UP}
    assert f"{EventKind.BGP_STATE:<12}|" == "bgp-state   |"


def test_the_timeline_names_the_line_it_cannot_read(tmp_path):
    labdir = LabDir("unit", root=tmp_path)
    labdir.event(EventKind.LAB_CREATED, lab="unit")
    with open(labdir.events_file, "a") as out:
        out.write(json.dumps({"time": 2.0, "kind": "teleported"}) + "\n")
    with pytest.raises(LabStateError, match="event 2: unknown event kind 'teleported'"):
        Timeline.read(labdir)
