"""The `course` command: data check, release, and its error messages."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from course_utils.instructor import cli
from course_utils.instructor.grading.notebook_facts import copy_course
from tests.notebook_tools import REPO_ROOT, assignment_ids

COURSE = Path(sys.executable).parent / "course"


def _course(*args: str, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=os.pathsep.join([str(COURSE.parent), os.environ["PATH"]]))
    return subprocess.run([str(COURSE), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)


def test_data_check_names_the_source():
    result = _course("data", "check")
    assert result.returncode == 0, result.stderr
    assert "Fashion-MNIST: Debian package" in result.stdout


def test_data_ensure_is_idempotent():
    result = _course("data", "ensure")
    assert result.returncode == 0 and "Fashion-MNIST:" in result.stdout


def test_release_into_a_course_copy_matches_the_committed_release(tmp_path):
    assignment = assignment_ids()[0]
    copy_course(REPO_ROOT, tmp_path, [assignment])
    result = _course("--course-root", str(tmp_path), "release", assignment)
    assert result.returncode == 0, result.stderr
    assert f"released exercises/{assignment}/{assignment}.ipynb" in result.stdout
    written = tmp_path / "exercises" / assignment / f"{assignment}.ipynb"
    committed = REPO_ROOT / "exercises" / assignment / f"{assignment}.ipynb"
    assert written.read_bytes() == committed.read_bytes()
    # The source is untouched and no gradebook is left in the course folder.
    assert (tmp_path / "solutions" / assignment / f"{assignment}.ipynb").read_bytes() == (
        REPO_ROOT / "solutions" / assignment / f"{assignment}.ipynb").read_bytes()


def test_unknown_assignment_is_a_clear_error(tmp_path):
    shutil.copy2(REPO_ROOT / "nbgrader_config.py", tmp_path)
    (tmp_path / "solutions").mkdir()
    result = _course("--course-root", str(tmp_path), "release", "ch99_nope")
    assert result.returncode != 0
    assert "Unknown assignment(s) ['ch99_nope']" in result.stderr


def test_outside_the_course_folder_is_a_clear_error(tmp_path):
    result = _course("release", cwd=tmp_path)
    assert result.returncode != 0
    assert "is not the course folder" in result.stderr


@pytest.mark.parametrize("argv, blocked, extra", [
    (["grade", "ch01_unstable_gradients", "submissions", "--jobs", "2", "--memory-mb", "1024"],
     "nbgrader", "grading"),
    (["grade", "ch01_unstable_gradients", "submissions", "--dask", "tcp://localhost:8786"],
     "distributed", "grading"),
    (["release", "ch01_unstable_gradients"], "nbgrader", "grading"),
    (["similarity", "ch01_unstable_gradients", "submissions"], "copydetect", "grading"),
    (["book"], "jupyter_book", "book"),
    (["book"], "mathjax", "book"),
    (["setup-cell", "--check"], "yaml", "book"),
])
def test_a_missing_extra_is_named_with_the_command_that_installs_it(argv, blocked, extra,
                                                                     monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, blocked, None)  # `import blocked` now fails
    code = cli.main(["--course-root", str(REPO_ROOT), *argv])
    err = capsys.readouterr().err
    assert code == 2, err
    assert f'pip install "course-utils[{extra}]"' in err and blocked in err, err
    assert err.startswith(f"course {argv[0]}: error: this command needs the {extra!r} extra")
    assert "Traceback" not in err and "unrecognized arguments" not in err


def test_grade_options_parse_without_the_grading_extra(monkeypatch):
    for module in cli.EXTRAS["grading"]:
        monkeypatch.setitem(sys.modules, module, None)
    args = cli.build_parser().parse_args(["grade", "ch01_unstable_gradients", "submissions",
                                          "--jobs", "2", "--memory-mb", "1024"])
    assert (args.jobs, args.memory_mb) == (2, 1024)


def test_present_extras_pass_the_check():
    cli.require_extra("book", ("yaml", "mathjax"))
    cli.require_extra("grading", ("copydetect",))
