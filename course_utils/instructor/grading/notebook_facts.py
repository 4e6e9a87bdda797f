"""What the grading tools read from a notebook, and the nbgrader run they share.

Written once here and used by release, template, repair, ingest and the tests:

* cell facts: :func:`cell_source`, :func:`nbgrader_meta`, :func:`grade_id`,
  :func:`graded_cells`;
* hidden tests: :func:`hidden_test_lines` (the lines a feedback must never
  show), :func:`marked_lines` (the same rule for any nbgrader marker, used by
  the leak test), :func:`strip_hidden_tests` (a cell's source without them),
  :func:`message_strings`;
* :func:`check_notebook`: is this submitted file a readable notebook;
* running nbgrader: :func:`nbgrader_env` (the one environment of nbgrader's
  subprocesses), :func:`copy_course` and :func:`generated_assignment` (run
  ``nbgrader generate_assignment`` in a temporary copy of the course).

Markers follow nbgrader's own rule (``ClearHiddenTests``, ``ClearSolutions``):
a line that *contains* ``BEGIN HIDDEN TESTS`` opens a block, one containing
``END HIDDEN TESTS`` closes it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

__all__ = ["cell_source", "nbgrader_meta", "grade_id", "graded_cells", "marked_lines",
           "hidden_test_lines", "strip_hidden_tests", "message_strings", "check_notebook",
           "nbgrader_env", "with_changes", "copy_course", "generated_assignment",
           "HIDDEN_TESTS", "SOLUTION"]

HIDDEN_TESTS = "HIDDEN TESTS"
"""The name in nbgrader's ``### BEGIN HIDDEN TESTS`` / ``### END HIDDEN TESTS``."""

SOLUTION = "SOLUTION"
"""The name in nbgrader's ``### BEGIN SOLUTION`` / ``### END SOLUTION``."""

IGNORED = (".ipynb_checkpoints", "__pycache__")
"""Folders never copied from an assignment's source."""


def cell_source(cell: dict) -> str:
    """A cell's source as one string (nbformat stores a string or a list of lines).

    Malformed sources (a submission's) give what text they hold, or ``""``.
    """
    source = cell.get("source", "")
    if isinstance(source, list):
        source = "".join(part for part in source if isinstance(part, str))
    return source if isinstance(source, str) else ""


def nbgrader_meta(cell: dict) -> dict:
    """A cell's ``metadata.nbgrader`` (empty if missing or not a mapping)."""
    meta = cell.get("metadata")
    data = meta.get("nbgrader") if isinstance(meta, dict) else None
    return data if isinstance(data, dict) else {}


def grade_id(cell: dict) -> str | None:
    """A cell's nbgrader ``grade_id``, or None."""
    return nbgrader_meta(cell).get("grade_id")


def graded_cells(notebook: dict) -> list[tuple[str, float]]:
    """The autograded cells of a source notebook: ``(grade_id, points)`` in order."""
    cells = []
    for cell in notebook.get("cells", []):
        meta = nbgrader_meta(cell)
        if meta.get("grade") and cell.get("cell_type") == "code":
            cells.append((str(meta["grade_id"]), float(meta.get("points", 0))))
    return cells


def marked_lines(notebook: dict, markers: Sequence[str] = (HIDDEN_TESTS,)) -> list[str]:
    """The stripped, non-blank lines inside ``BEGIN <marker>`` ... ``END <marker>`` blocks.

    Lines that also occur outside every block (in a visible test, say) are
    left out: they are not secret. Order is kept; repeats are kept.

    Args:
        notebook: an nbformat 4 notebook as a dict.
        markers: the block names, e.g. ``(HIDDEN_TESTS, SOLUTION)``.
    """
    begins = [f"BEGIN {marker}" for marker in markers]
    ends = [f"END {marker}" for marker in markers]
    lines, visible, inside = [], set(), False
    for cell in notebook.get("cells", []):
        for line in cell_source(cell).splitlines():
            if any(begin in line for begin in begins):
                inside = True
            elif any(end in line for end in ends):
                inside = False
            elif inside and line.strip():
                lines.append(line.strip())
            else:
                visible.add(line.strip())
    return [line for line in lines if line not in visible]


def hidden_test_lines(notebook: dict) -> list[str]:
    """The stripped, non-blank lines between ``BEGIN`` and ``END HIDDEN TESTS``.

    Lines that also occur outside hidden tests (in a visible test, say) are
    left out: they are not secret.
    """
    return marked_lines(notebook, (HIDDEN_TESTS,))


def strip_hidden_tests(source: str) -> str:
    """``source`` without its hidden-test blocks (marker lines included).

    An unclosed block runs to the end of the source (nbgrader would refuse
    it; removing too much is the safe side for a feedback). Trailing newlines
    are dropped.
    """
    kept, inside = [], False
    for line in source.splitlines(keepends=True):
        if f"BEGIN {HIDDEN_TESTS}" in line:
            inside = True
        elif f"END {HIDDEN_TESTS}" in line and inside:
            inside = False
        elif not inside:
            kept.append(line)
    return "".join(kept).rstrip("\n")


def message_strings(notebook: dict, hidden_lines: Sequence[str]) -> list[str]:
    """The test cells' string literals that contain one of ``hidden_lines``.

    A failing test shows its message (``check_type("fans(_as_list)", ...)``
    names the call, ``assert ok, \"\"\"...\"\"\"`` quotes its text); when such a
    literal happens to contain a whole hidden line, that line in the message
    is the test's own words, not leaked source. Cells that are not valid
    Python (magics) contribute nothing.
    """
    import ast

    found = []
    needles = [line for line in hidden_lines if line]
    for cell in notebook.get("cells", []):
        if not nbgrader_meta(cell).get("grade") or cell.get("cell_type") != "code":
            continue
        try:
            tree = ast.parse(cell_source(cell))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and any(needle in node.value for needle in needles):
                found.append(node.value)
    return found


def check_notebook(data: bytes) -> tuple[dict | None, str]:
    """Parses a submitted notebook, or says why it cannot be graded.

    Args:
        data: the file's bytes.

    Returns:
        ``(notebook, "")`` for a readable nbformat-4 notebook, else
        ``(None, problem)`` where ``problem`` reads like
        ``"unreadable: not valid JSON (line 3, column 1)"``.
    """
    if not data.strip():
        return None, "unreadable: empty file"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None, "unreadable: not a notebook (binary data, not UTF-8 JSON text)"
    try:
        notebook = json.loads(text)
    except json.JSONDecodeError as error:
        return None, f"unreadable: not valid JSON ({error.msg} at line {error.lineno}, " \
                     f"column {error.colno})"
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        return None, ("unreadable: not a notebook (JSON without a 'cells' list; "
                      f"received a {type(notebook).__name__})")
    if notebook.get("nbformat") != 4:
        return None, (f"unreadable: expected nbformat 4, received nbformat "
                      f"{notebook.get('nbformat')!r}")
    if not all(isinstance(cell, dict) and "cell_type" in cell for cell in notebook["cells"]):
        return None, "unreadable: not a notebook (a cell without 'cell_type')"
    return notebook, ""


def nbgrader_env(changes: dict[str, str | None] | None = None) -> dict[str, str]:
    """The environment of nbgrader's subprocesses: this Python's scripts first on PATH.

    nbgrader runs ``alembic`` from PATH when it creates a gradebook.

    Args:
        changes: variables to set on top (a value of None removes the variable).
    """
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return with_changes(env, changes or {})


def with_changes(env: dict[str, str], changes: dict[str, str | None]) -> dict[str, str]:
    """A copy of ``env`` with ``changes`` applied (a value of None removes the variable)."""
    env = dict(env)
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def copy_course(course_root: Path, target: Path, assignments: Sequence[str]) -> Path:
    """A minimal course for nbgrader at ``target``: the configuration and the sources.

    Copies ``nbgrader_config.py`` and ``solutions/<id>/`` of each assignment
    (without checkpoints and caches); returns ``target``.
    """
    course_root, target = Path(course_root), Path(target)
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(course_root / "nbgrader_config.py", target / "nbgrader_config.py")
    for assignment in assignments:
        shutil.copytree(course_root / "solutions" / assignment,
                        target / "solutions" / assignment,
                        ignore=shutil.ignore_patterns(*IGNORED))
    return target


@contextlib.contextmanager
def generated_assignment(course_root: Path, assignments: Sequence[str],
                         timeout: float | None = None) -> Iterator[Path]:
    """Runs ``nbgrader generate_assignment`` in a temporary copy of the course.

    The real course (its gradebook, ``exercises/``) is never touched.

    Args:
        course_root: the course folder (``nbgrader_config.py``, ``solutions/``).
        assignments: the assignment ids, generated in this order.
        timeout: seconds allowed for each ``generate_assignment``.

    Yields:
        The temporary course: ``exercises/<id>/`` and ``gradebook.db`` in it.
        It is removed when the ``with`` block ends.

    Raises:
        RuntimeError: if nbgrader fails; its output is in the message.
    """
    with tempfile.TemporaryDirectory(prefix="course-generate-") as tmp:
        work = copy_course(course_root, Path(tmp), assignments)
        for assignment in assignments:
            result = subprocess.run(
                [sys.executable, "-m", "course_utils.instructor.grading.nbgrader_main",
                 "generate_assignment", assignment, "--force", "--log-level=WARN"],
                cwd=work, capture_output=True, text=True, env=nbgrader_env(), timeout=timeout)
            if result.returncode != 0:
                raise RuntimeError(
                    f"nbgrader generate_assignment {assignment} failed "
                    f"(exit {result.returncode}):\n{result.stdout}\n{result.stderr}")
        yield work
