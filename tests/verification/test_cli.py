"""The ``rltheory`` command line, end to end."""

import json
import subprocess
import sys

import pytest

from verification.cli import main


def _run(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "verification.cli", *args], capture_output=True, text=True, cwd=cwd, timeout=600
    )


def test_help_and_console_script():
    r = _run("--help")
    assert r.returncode == 0 and "verify" in r.stdout and "solve" in r.stdout


def test_solve_riverswim(capsys):
    assert main(["solve", "riverswim", "--horizon", "20"]) == 0
    out = capsys.readouterr().out
    assert "method=backward_induction" in out and "V*_1(s)" in out
    assert main(["solve", "riverswim", "--gamma", "0.9", "--method", "value_iteration", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["method"] == "value_iteration" and len(data["values"]) == 6


def test_solve_errors(capsys):
    assert main(["solve", "nope", "--horizon", "3"]) == 2
    assert "must be one of" in capsys.readouterr().err
    assert main(["solve", "riverswim", "--horizon", "3", "--gamma", "0.9"]) == 2


def test_list(capsys):
    assert main(["list"]) == 0
    assert "exact-solvers" in capsys.readouterr().out


def test_verify_and_report_end_to_end(tmp_path, capsys):
    store, rep = tmp_path / "s.sqlite", tmp_path / "rep"
    code = main(
        [
            "verify",
            "exact-solvers",
            "--preset",
            "tiny",
            "--workers",
            "0",
            "--store",
            str(store),
            "--report",
            str(rep),
            "--no-progress",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert "exact-solvers" in out and "PASS" in out and str(rep / "README.md") in out
    assert (rep / "exact-solvers.md").read_text().startswith("# exact-solvers: PASS")
    # resuming finds everything in the store
    assert (
        main(
            [
                "verify",
                "exact-solvers",
                "--preset",
                "tiny",
                "--workers",
                "0",
                "--store",
                str(store),
                "--report",
                str(rep),
                "--no-progress",
            ]
        )
        == 0
    )
    assert "0 seed runs computed" in capsys.readouterr().out
    rep2 = tmp_path / "rep2"
    assert main(["report", "--store", str(store), "--report", str(rep2)]) == 0
    assert json.loads((rep2 / "summary.json").read_text())["claims"]["exact-solvers"]["verdict"] == "PASS"


@pytest.mark.parametrize(
    ("argv", "match"),
    [
        (["verify", "no-such-claim"], "unknown claim 'no-such-claim'; known claims:"),
        (["verify", "exact-solvers", "--preset", "enormous"], "has no preset 'enormous'"),
        (["report", "--store", "/nonexistent/x.sqlite"], "no result store"),
    ],
)
def test_cli_errors(argv, match, capsys):
    assert main(argv) == 2
    assert match in capsys.readouterr().err


def test_store_is_a_directory(tmp_path, capsys):
    assert main(["verify", "exact-solvers", "--preset", "tiny", "--store", str(tmp_path), "--workers", "0"]) == 2
    assert "is a directory" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["verify", "report"])
def test_report_path_that_is_a_file_is_a_one_line_error(tmp_path, command):
    target = tmp_path / "taken.txt"
    target.write_text("not a directory")
    store = tmp_path / "s.sqlite"
    if command == "report":  # a real store, so that only --report is wrong
        assert (
            main(
                [
                    "verify",
                    "exact-solvers",
                    "--preset",
                    "tiny",
                    "--workers",
                    "0",
                    "--store",
                    str(store),
                    "--report",
                    str(tmp_path / "rep"),
                    "--no-progress",
                ]
            )
            == 0
        )
        args = ["report", "--store", str(store), "--report", str(target)]
    else:
        args = [
            "verify",
            "exact-solvers",
            "--preset",
            "tiny",
            "--workers",
            "0",
            "--store",
            str(store),
            "--no-progress",
            "--report",
            str(target),
        ]
    r = _run(*args)
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "--report" in lines[0], r.stderr
    assert target.read_text() == "not a directory"  # left untouched
    r = _run(*args[:-1], str(target / "sub"))  # a directory below a file cannot be created either
    assert r.returncode == 2 and "--report" in r.stderr and "Traceback" not in r.stderr
