"""The grader process: ``nbgrader autograde``, redaction, ``generate_feedback``.

One submission per process, run inside a workdir (see
:mod:`course_utils.instructor.grading.job`)::

    python -m course_utils.instructor.grading.nbgrader_driver <assignment> <student> \
        <options.json> [extra nbgrader autograde arguments...]

or a long-lived worker that grades one submission after the other, each in
its own workdir (see :mod:`course_utils.instructor.grading.workers`)::

    python -m course_utils.instructor.grading.nbgrader_driver --serve

A worker reads one JSON request per line on stdin (``{"workdir", "assignment",
"student", "options", "extra", "env"}``), grades in that folder with those
environment changes, and answers one JSON line ``{"code": N}`` on its
original stdout; everything nbgrader and the kernel print goes to
``workdir/driver.log``. Importing nbgrader takes seconds of CPU: a worker
pays it once per batch instead of once per submission. The student's code
never runs in this process: it runs in the sandboxed kernel nbgrader starts,
a new one per submission.

``options.json`` holds ``{"hidden_lines": [...], "message_strings": [...],
"max_output_chars": N}``. Between the two nbgrader apps, every graded
notebook is truncated and stripped of hidden tests
(:mod:`course_utils.instructor.grading.repair`), so the feedback never shows them. The
exit code (or ``code``) is autograde's; feedback failures are reported in
``driver-notes.json`` and the moments of each phase in ``driver-times.json``.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from pathlib import Path

from course_utils.instructor.grading import repair
from course_utils.instructor.grading.nbgrader_ext import TIMES, mark
from course_utils.instructor.grading.notebook_facts import with_changes

NOTES_FILE = "driver-notes.json"
TIMES_FILE = "driver-times.json"
LOG_FILE = "driver.log"
REPLY_PREFIX = "course-grade-worker-reply "


def _launch(app_class, argv: list[str]) -> int:
    """Runs an nbgrader app like its command line does; returns its exit code."""
    try:
        app = app_class.instance()
        app.initialize(argv)
        app.start()
    except SystemExit as stop:
        return int(stop.code or 0) if not isinstance(stop.code, str) else 1
    finally:
        app_class.clear_instance()
    return 0


def _postprocess(folder: Path, hidden: list[str], limit: int,
                 messages: list[str] = ()) -> list[str]:
    notes = []
    for path in sorted(folder.glob("*.ipynb")):
        notebook = json.loads(path.read_text(encoding="utf-8"))
        if repair.limit_outputs(notebook, limit):
            notes.append("huge output truncated in the graded copy")
        repair.redact_hidden_tests(notebook, hidden, messages)
        path.chmod(0o644)
        path.write_text(json.dumps(notebook, indent=1), encoding="utf-8")
    return notes


def grade_here(assignment: str, student: str, options_path: str, extra: list[str]) -> int:
    """Autogrades ``student`` in the current folder, redacts, writes the feedback.

    Writes ``driver-notes.json`` and ``driver-times.json`` in the current
    folder; ``TIMES`` must hold ``started`` (and ``imported``) already.

    Returns:
        autograde's exit code.
    """
    from nbgrader.apps import AutogradeApp, GenerateFeedbackApp

    options = json.loads(Path(options_path).read_text(encoding="utf-8"))
    code = _launch(AutogradeApp, [assignment, "--student", student, "--force", *extra])
    mark("autograded")
    notes: list[str] = []
    folder = Path("autograded") / student / assignment
    if code == 0 and folder.is_dir():
        notes = _postprocess(folder, options["hidden_lines"], options["max_output_chars"],
                             options.get("message_strings", []))
        feedback = _launch(GenerateFeedbackApp, [assignment, "--student", student, "--force"])
        if feedback != 0:
            notes.append(f"feedback could not be generated (exit {feedback})")
    mark("feedback_done")
    Path(NOTES_FILE).write_text(json.dumps(notes), encoding="utf-8")
    times = {name: list(moment) for name, moment in TIMES.items()}
    Path(TIMES_FILE).write_text(json.dumps(times), encoding="utf-8")
    return code


def _serve() -> int:
    """The worker loop: one request per stdin line, one reply per line."""
    replies = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 1)
    home, base_env = os.getcwd(), dict(os.environ)
    from nbgrader.apps import AutogradeApp  # noqa: F401 (import once, for every request)

    imported = (time.time(), time.process_time())
    first = True
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        TIMES.clear()
        mark("started")
        # The import is paid once: later requests start with it done.
        TIMES["imported"] = imported if first else TIMES["started"]
        # The first request pays the worker's start-up (CPU counted from 0).
        TIMES["cpu_base"] = (0.0, 0.0 if first else TIMES["started"][1])
        first = False
        workdir = Path(request["workdir"])
        log = os.open(workdir / LOG_FILE, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.close(log)
        os.environ.clear()
        os.environ.update(with_changes(base_env, request.get("env", {})))
        try:
            os.chdir(workdir)
            code = grade_here(request["assignment"], request["student"], request["options"],
                              list(request.get("extra", [])))
        except Exception:  # noqa: BLE001 (reported as a grader failure, the worker goes on)
            traceback.print_exc()
            code = 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.chdir(home)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
        replies.write(REPLY_PREFIX + json.dumps({"code": code}) + "\n")
    return 0


def main(argv: list[str]) -> int:
    """Entry point; see the module docstring for the arguments."""
    if argv[:1] == ["--serve"]:
        return _serve()
    mark("started")
    from nbgrader.apps import AutogradeApp  # noqa: F401 (timed apart from grading)

    mark("imported")
    assignment, student, options_path, *extra = argv
    return grade_here(assignment, student, options_path, extra)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
