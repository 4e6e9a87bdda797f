"""Fixtures for the grading tests: a small generated course and a `course grade` runner."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.grading.small_assignment import make_small_course

BIN = Path(sys.executable).parent


@dataclass
class GradeRun:
    """What one `course grade` run printed and wrote."""

    returncode: int
    stdout: str
    stderr: str
    report: dict

    def rows(self) -> dict[str, dict]:
        """Student id -> report row (score, max_score, status, message, audit)."""
        return {row["student"]: row for row in self.report.get("rows", [])}


def run_course_grade(course: Path, submissions: Path, *args: str, assignment: str = "small",
                     timeout: float = 900, output: Path | None = None,
                     env: dict[str, str] | None = None) -> GradeRun:
    """Runs the installed `course grade` command as a subprocess, bounded in time."""
    command = [str(BIN / "course"), "--course-root", str(course), "grade", assignment,
               str(submissions), *args]
    if output is not None:
        command += ["--output", str(output)]
    env = dict(os.environ, PATH=os.pathsep.join([str(BIN), os.environ.get("PATH", "")]),
               **(env or {}))
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env,
                            cwd=course)
    report_path = (output or course) / f"grading-report-{assignment}.json"
    report = json.loads(report_path.read_text()) if report_path.is_file() else {}
    return GradeRun(result.returncode, result.stdout, result.stderr, report)


def tree_state(folder: Path) -> dict[str, tuple[str, int, int]]:
    """Relative path -> (sha256, size, mtime_ns) of every file under ``folder``."""
    state = {}
    for path in sorted(Path(folder).rglob("*")):
        if path.is_file():
            stat = path.stat()
            state[path.relative_to(folder).as_posix()] = (
                hashlib.sha256(path.read_bytes()).hexdigest(), stat.st_size, stat.st_mtime_ns)
    return state


def gradebook_scores(course: Path, assignment: str = "small") -> dict[str, dict]:
    """Student id -> {"score", "max_score", "cells": {grade cell: auto score}}."""
    from nbgrader.api import Gradebook

    result = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for submission in gradebook.assignment_submissions(assignment):
            cells = {grade.name: grade.auto_score
                     for notebook in submission.notebooks for grade in notebook.grades}
            result[submission.student.id] = {"score": submission.score,
                                             "max_score": submission.max_score,
                                             "cells": cells}
    return result


@pytest.fixture(scope="session")
def small_course_template(tmp_path_factory) -> Path:
    """The small course, generated once per session (copy it before grading)."""
    return make_small_course(tmp_path_factory.mktemp("small-course-template") / "course")


def copy_course(template: Path, target: Path) -> Path:
    """A fresh copy of a generated course (no gradebook, no grades yet)."""
    shutil.copytree(template, target)
    return target


@pytest.fixture
def small_course(small_course_template, tmp_path) -> Path:
    """A fresh copy of the small course for one test."""
    return copy_course(small_course_template, tmp_path / "course")


@contextlib.contextmanager
def loopback_listener(seconds: float = 900.0):
    """A TCP server on 127.0.0.1 that records every connection it accepts.

    Yields ``(port, accepted)``; ``accepted`` must stay empty when student code
    is sandboxed. The accepting thread stops after ``seconds`` at the latest.
    """
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.5)
    accepted: list[object] = []
    stop = threading.Event()

    def accept() -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not stop.is_set():
            try:
                accepted.append(server.accept())
            except OSError:
                pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1], accepted
    finally:
        stop.set()
        thread.join(timeout=5)
        server.close()
