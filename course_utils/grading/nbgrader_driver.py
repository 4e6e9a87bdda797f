"""One process per submission: ``nbgrader autograde``, redaction, ``generate_feedback``.

Run inside a workdir (see :mod:`course_utils.grading.job`)::

    python -m course_utils.grading.nbgrader_driver <assignment> <student> <options.json> \
        [extra nbgrader autograde arguments...]

``options.json`` holds ``{"hidden_lines": [...], "message_strings": [...],
"max_output_chars": N}``.
Importing nbgrader takes seconds; running both nbgrader apps in the same
interpreter halves that cost. Between them, every graded notebook is
truncated and stripped of hidden tests (:mod:`course_utils.grading.repair`),
so the feedback never shows them. The exit code is autograde's (feedback
failures are reported in ``driver-notes.json``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from course_utils.grading import repair

NOTES_FILE = "driver-notes.json"


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


def main(argv: list[str]) -> int:
    """Entry point; see the module docstring for the arguments."""
    from nbgrader.apps import AutogradeApp, GenerateFeedbackApp

    assignment, student, options_path, *extra = argv
    options = json.loads(Path(options_path).read_text(encoding="utf-8"))
    code = _launch(AutogradeApp, [assignment, "--student", student, "--force", *extra])
    notes: list[str] = []
    folder = Path("autograded") / student / assignment
    if code == 0 and folder.is_dir():
        notes = _postprocess(folder, options["hidden_lines"], options["max_output_chars"],
                             options.get("message_strings", []))
        feedback = _launch(GenerateFeedbackApp, [assignment, "--student", student, "--force"])
        if feedback != 0:
            notes.append(f"feedback could not be generated (exit {feedback})")
    Path(NOTES_FILE).write_text(json.dumps(notes), encoding="utf-8")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
