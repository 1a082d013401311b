"""Bad arguments end in one clear message and exit 2, never in a traceback."""
from __future__ import annotations

import pytest

from emulator.cli.main import main

BAD = [
    (["generate", "0"], "greater than 0"),
    (["generate", "-3"], "greater than 0"),
    (["generate", "many"], "must be a number"),
    (["generate", "100000"], "locations must be 1-64"),
    (["generate", "2", "--name", "BAD_NAME"], "lab name 'BAD_NAME'"),
    (["status", "bad name"], "lab name 'bad name'"),
    (["down", "../etc"], "lab name '../etc'"),
    (["timeline", "nolabhere"], "no lab named 'nolabhere'"),
    (["status", "nolabhere"], "no lab named 'nolabhere'"),
    (["events", "nolabhere"], "no lab named 'nolabhere'"),
    (["capture", "nolabhere", "x", "y"], "no lab named 'nolabhere'"),
    (["capture", "nolabhere", "x", "y", "--count", "0"], "greater than 0"),
    (["probe", "nolabhere", "--rate", "0"], "greater than 0"),
    (["probe", "nolabhere", "--count", "-1"], "greater than 0"),
    (["fail", "nolabhere", "lag-down", "x", "--member", "0"], "greater than 0"),
    (["validate", "/nonexistent/topology.yaml"], "cannot read the file"),
    (["up", "/nonexistent/topology.yaml"], "cannot read the file"),
    (["render", "--runtime", "containerlab", "topologies/seattle.yaml", "/proc/not/here"],
     "/proc/not"),
]


@pytest.mark.parametrize("argv,says", BAD, ids=[" ".join(a) for a, _ in BAD])
def test_bad_argument_exits_2_with_a_message(argv, says, capsys, monkeypatch):
    monkeypatch.chdir(__import__("pathlib").Path(__file__).resolve().parents[2])
    try:
        code = main(argv)
    except SystemExit as exc:       # argparse's own usage errors
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2, err
    assert says in err
    assert "Traceback" not in err


def test_validate_runs_the_programs_own_syntax_check(capsys, monkeypatch):
    root = __import__("pathlib").Path(__file__).resolve().parents[2]
    monkeypatch.chdir(root)
    assert main(["validate", "tests/fixtures/own-config/syntax-error.yaml"]) == 2
    err = capsys.readouterr().err
    assert "routers[0].config: frr rejects its configuration:" in err
    assert "frr-syntax-error.conf:37:" in err


def test_an_unknown_router_program_is_named_with_its_place(tmp_path, capsys):
    root = __import__("pathlib").Path(__file__).resolve().parents[2]
    text = (root / "topologies" / "seattle.yaml").read_text()
    path = tmp_path / "t.yaml"
    path.write_text(text.replace("    software: frr\n", "    software: junos\n", 1))
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "routers[0].software: no peer-router runs 'junos'" in err
    assert "choose one of: bird, frr, gobgp, openbgpd" in err


def test_the_pytest_plugin_never_removes_a_running_lab(tmp_path):
    """A lab of the fixture's name that is up is refused, and left as it was."""
    from emulator.cli.pytest_plugin import refuse_running
    from emulator.core.labdir import LabDir, LabState
    refuse_running("somebodys", root=tmp_path)             # nothing up: fine
    LabDir("somebodys", tmp_path).write_state(LabState("somebodys", "t.yaml", "netns"))
    with pytest.raises(pytest.fail.Exception, match="already up"):
        refuse_running("somebodys", root=tmp_path)
    assert LabDir("somebodys", tmp_path).exists()
