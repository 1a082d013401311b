"""The `mapslab` commands that need no root, run as a user would (emulator.cli.main.main):
validate, render, generate and contract on topology files, and events, timeline, peering,
status, check and report on a recorded lab (tests/fixtures/lab/)."""
from __future__ import annotations

import json
import re

import pytest
import yaml

from emulator.cli import main as cli
from emulator.core import labdir as labdir_module
from emulator.core import wait
from emulator.lab import lifecycle
from tests.conftest import ROOT
from tests.unit.recorded_lab import LAB, recorded_lab

SEATTLE = ROOT / "topologies" / "seattle.yaml"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# ---- topology files ----

def test_validate_accepts_the_example_and_names_a_broken_rule(capsys, tmp_path):
    code, out, err = run(capsys, "validate", str(SEATTLE))
    assert code == 0, out + err
    raw = yaml.safe_load(SEATTLE.read_text())
    raw["peering"]["peer-asn"] = 8075            # Microsoft's own ASN as the peer's
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(raw, sort_keys=False))
    code, out, err = run(capsys, "validate", str(broken))
    assert code != 0
    assert str(broken) in out + err and "peer-asn" in out + err
    assert "Traceback" not in out + err


def test_render_writes_a_containerlab_topology_of_the_plan(capsys, tmp_path):
    code, out, err = run(capsys, "render", str(SEATTLE), str(tmp_path / "clab"))
    assert code == 0, err
    written = yaml.safe_load((tmp_path / "clab" / "seattle.clab.yml").read_text())
    assert written["name"] == "seattle"
    assert {"sea-pr1", "sea-pr2", "sea-ms1", "sea-ms2", "rs"} <= set(written["topology"]["nodes"])


def test_generate_writes_a_topology_that_validates(capsys, tmp_path):
    out_file = tmp_path / "three.yaml"
    code, out, err = run(capsys, "generate", "3", "--name", "gen3", "--out", str(out_file))
    assert code == 0, err
    assert yaml.safe_load(out_file.read_text())["lab"] == "gen3"
    code, out, err = run(capsys, "validate", str(out_file))
    assert code == 0, out + err


@pytest.mark.parametrize("argv", [["generate", "0"], ["generate", "-3"],
                                  ["generate", "many"]])
def test_generate_refuses_a_count_that_is_not_a_positive_number(capsys, argv):
    with pytest.raises(SystemExit) as exited:
        cli.main(argv)
    assert exited.value.code == 2
    assert "locations" in capsys.readouterr().err


def test_contract_names_every_neighbor_of_a_peer_router(capsys):
    code, out, err = run(capsys, "contract", str(SEATTLE), "sea-pr1", "--format", "json")
    assert code == 0, err
    text = json.dumps(json.loads(out))
    for address in ("198.18.0.1", "2001:db8:ffff::1", "100.127.0.1"):
        assert address in text


# ---- a recorded lab ----

@pytest.fixture
def recorded(tmp_path, monkeypatch):
    """The recordings as labs of this host: their directory under the run root, and open_lab
    attaching to the recording (its commands answered from what was recorded)."""
    monkeypatch.setattr(labdir_module, "RUN_ROOT", tmp_path / "run")
    monkeypatch.setitem(wait.BUDGETS, "negative_window", 0.0)

    def use(state: str):
        lab = recorded_lab(state, tmp_path / "run", monkeypatch)
        monkeypatch.setattr(lifecycle, "open_lab", lambda name: lab if name == LAB else
                            pytest.fail(f"opened {name}"))
        return lab
    return use


def test_timeline_lists_the_recorded_events_in_time_order(capsys, recorded):
    recorded("after-failover")
    code, out, err = run(capsys, "timeline", LAB)
    assert code == 0, err
    lines = out.splitlines()
    parsed = [re.match(r"^\+\s*(\d+\.\d+)s\s+(\S+)", line) for line in lines]
    assert all(parsed), lines
    times, kinds = [float(m.group(1)) for m in parsed], [m.group(2) for m in parsed]
    assert (times[0], kinds[0]) == (0.0, "lab-created")
    assert kinds.index("fault") < kinds.index("recover")
    assert any("scenario=lag-down" in line and "target=sea-1-a" in line for line in lines)
    assert times == sorted(times)


def test_events_lists_the_turn_ups_emails(capsys, recorded):
    recorded("steady")
    code, out, err = run(capsys, "events", LAB)
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == len(list((ROOT / "tests/fixtures/lab/steady/dir/maildir/new").iterdir()))
    assert [int(line.split()[0]) for line in lines] == list(range(1, len(lines) + 1))


def test_peering_shows_the_connections_and_the_registered_asns(capsys, recorded):
    recorded("steady")
    code, out, err = run(capsys, "peering", LAB)
    assert code == 0, err
    assert "Active" in out
    for asn in ("64500", "64501", "65537"):
        assert asn in out


def test_status_and_check_of_a_working_recorded_lab(capsys, recorded):
    recorded("steady")
    code, out, err = run(capsys, "status", LAB, "--format", "json")
    assert code == 0, err
    assert json.loads(out)["microsoft_prefixes"]["sea-pr1"] == {"ipv4": 12, "ipv6": 4}
    code, out, err = run(capsys, "check", LAB)
    assert code == 0, out + err
    assert "FAIL" not in out


def test_check_of_a_recorded_lab_with_a_link_down_exits_3(capsys, recorded):
    recorded("lag-down")
    code, out, err = run(capsys, "check", LAB)
    assert code == 3
    assert any(line.startswith("FAIL") and "mesh-formed" in line for line in out.splitlines())


def test_report_shows_the_recorded_failover_and_every_check(capsys, recorded, tmp_path):
    recorded("after-failover")
    failover = json.loads((ROOT / "tests/fixtures/lab/after-failover/dir/failovers.jsonl")
                          .read_text().splitlines()[-1])
    code, out, err = run(capsys, "report", LAB, "--out", str(tmp_path / "report"))
    assert code == 0, err
    text = (tmp_path / "report" / "report.md").read_text()
    row = (f"| lag-down | sea-1-a | {'PASS' if failover['passed'] else 'FAIL'} "
           f"| {failover['sent']} | {failover['lost']} |")
    assert any(line.startswith(row) for line in text.splitlines()), row
    assert "| mesh-formed | PASS |" in text
    assert (tmp_path / "report" / "timeline.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_commands_on_a_lab_that_is_not_there_exit_2_without_a_traceback(capsys, tmp_path,
                                                                          monkeypatch):
    monkeypatch.setattr(labdir_module, "RUN_ROOT", tmp_path / "run")
    for command in ("timeline", "events", "peering"):
        code, out, err = run(capsys, command, "nolab")
        assert code == 2, (command, out, err)
        assert "nolab" in err and "Traceback" not in err
