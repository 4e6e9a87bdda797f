"""Notebook fixes applied to the *copies* that grading works on, never to originals.

Before grading (:func:`prepare_for_grading`): nbgrader aborts on a notebook
whose cells share an nbformat cell id (a copy-pasted cell) and silently
handles a duplicated ``grade_id`` only in part. The rule here: of cells that
share a ``grade_id``, the **last** one keeps its nbgrader metadata and is
graded; earlier copies become ordinary cells (they still run). Duplicate
cell ids are renumbered.

After grading (:func:`limit_outputs`, :func:`redact_hidden_tests`): huge
outputs are truncated, and the graded copy used for feedback loses the source
of hidden tests, the tracebacks of test cells (they quote the failing line)
and any output line that repeats a hidden-test line; an error's own message
is kept (only hidden-test text inside it is replaced).
"""

from __future__ import annotations

import copy
import re

from course_utils.instructor.grading import notebook_facts as facts

__all__ = ["prepare_for_grading", "limit_outputs", "redact_hidden_tests", "MAX_OUTPUT_CHARS"]

MAX_OUTPUT_CHARS = 20_000
"""Characters kept of one output's text (or one rich-output value)."""

IMAGE_FACTOR = 100
"""Images (figures) may be this many times larger than ``MAX_OUTPUT_CHARS``."""

_REDACTED = "[line removed: it repeats a hidden test]"
_HIDDEN_TEXT = "[hidden test text]"


def _text(value: str | list[str]) -> str:
    """nbformat stores text as a string or a list of lines."""
    return value if isinstance(value, str) else "".join(value)


def prepare_for_grading(notebook: dict) -> tuple[dict, list[str]]:
    """A gradable copy of a submission, and notes on what was changed.

    Args:
        notebook: the submission (nbformat 4 JSON dict); not modified.

    Returns:
        ``(copy, notes)``; each note is a short sentence for the report.
    """
    result = copy.deepcopy(notebook)
    notes: list[str] = []
    cells = result["cells"]
    last_index: dict[str, int] = {}
    for index, cell in enumerate(cells):
        grade_id = facts.grade_id(cell)
        if grade_id:
            last_index[grade_id] = index
    duplicated = set()
    for index, cell in enumerate(cells):
        grade_id = facts.grade_id(cell)
        if grade_id and last_index[grade_id] != index:
            duplicated.add(grade_id)
            cell.setdefault("metadata", {}).pop("nbgrader", None)
    if duplicated:
        notes.append(f"duplicated cell(s) {', '.join(sorted(duplicated))}: graded the last copy")
    seen: set[str] = set()
    renumbered = False
    for index, cell in enumerate(cells):
        cell_id = cell.get("id")
        if not isinstance(cell_id, str) or not re.fullmatch(r"[a-zA-Z0-9-_]{1,64}", cell_id) \
                or cell_id in seen:
            renumbered = renumbered or cell_id is not None
            cell_id = f"cell-{index}"
            while cell_id in seen:
                cell_id += "x"
            cell["id"] = cell_id
        seen.add(cell_id)
        if cell.get("cell_type") == "code":
            cell.setdefault("outputs", [])
            cell.setdefault("execution_count", None)
        cell.setdefault("metadata", {})
    if renumbered and not duplicated:
        notes.append("duplicate cell ids renumbered")
    result["nbformat_minor"] = max(int(result.get("nbformat_minor", 5) or 0), 5)
    result.setdefault("metadata", {})
    return result, notes


def _truncate(text: str, limit: int) -> tuple[str, bool]:
    if len(text) <= limit:
        return text, False
    marker = f"\n... [output truncated: {len(text):,} characters in all]\n"
    return text[:max(limit - len(marker), 0)] + marker, True


def limit_outputs(notebook: dict, limit: int = MAX_OUTPUT_CHARS) -> bool:
    """Truncates, in place, each output's text and rich data to ``limit`` characters.

    Returns:
        Whether anything was truncated.
    """
    changed = False
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []) or []:
            if "text" in output:
                text = _text(output["text"])
                output["text"], cut = _truncate(text, limit)
                changed |= cut
            for mime, value in list((output.get("data") or {}).items()):
                text = value if isinstance(value, str) else (
                    "".join(value) if isinstance(value, list) else None)
                cap = limit * IMAGE_FACTOR if mime.startswith("image/") else limit
                if text is not None and len(text) > cap:
                    if mime != "text/plain":
                        output["data"][mime] = f"[{mime} output removed: {len(text):,} characters]"
                        output["data"].setdefault("text/plain", f"[{mime} output too large]")
                    else:
                        output["data"][mime], _ = _truncate(text, limit)
                    changed = True
            if len(output.get("traceback") or []) > 200:
                lines = output["traceback"]
                output["traceback"] = lines[:100] + ["..."] + lines[-100:]
                changed = True
    return changed


def redact_hidden_tests(notebook: dict, hidden_lines: list[str] | tuple[str, ...],
                        message_strings: list[str] | tuple[str, ...] = ()) -> None:
    """Removes, in place, every trace of hidden tests from a graded notebook.

    * the ``BEGIN/END HIDDEN TESTS`` blocks of every cell's source;
    * the traceback of an error in a test cell (replaced by ``ename: evalue``,
      since IPython's traceback quotes the failing source line);
    * any printed output line, or traceback line other than the error's own
      message, that contains a hidden-test line (a submission could print
      IPython's input history);
    * in an error's message (``evalue``, the last line of a traceback): only
      the hidden-test text itself, replaced by a marker, so the student still
      reads why the check failed. Text of ``message_strings`` (the tests' own
      string literals, see ``template.message_strings``) is the test's words
      and stays, even when it equals a hidden line.
    """
    needles = [line for line in hidden_lines if len(line) >= 8]
    messages = [text for text in message_strings if text]

    def scrub(text: str) -> str:
        if not any(needle in text for needle in needles):
            return text
        return "\n".join(_REDACTED if any(n in line for n in needles) else line
                         for line in text.split("\n"))

    def scrub_message(text: str) -> str:
        present = [needle for needle in needles if needle in text]
        explained = {needle for needle in present
                     if any(needle in words and words in text for words in messages)}
        for needle in sorted(set(present) - explained, key=len, reverse=True):
            text = text.replace(needle, _HIDDEN_TEXT)
        return text

    for cell in notebook.get("cells", []):
        source = facts.cell_source(cell)
        if facts.HIDDEN_TESTS in source:
            cell["source"] = facts.strip_hidden_tests(source)
        is_test = bool(facts.nbgrader_meta(cell).get("grade"))
        for output in cell.get("outputs", []) or []:
            if output.get("output_type") == "error":
                output["evalue"] = scrub_message(str(output.get("evalue", "")))
                if is_test:
                    output["traceback"] = [f"{output.get('ename', 'Error')}: "
                                           f"{output['evalue']}"]
                else:
                    lines = [str(line) for line in output.get("traceback", []) or []]
                    output["traceback"] = [scrub(line) for line in lines[:-1]] + [
                        scrub_message(line) for line in lines[-1:]]
            if "text" in output:
                output["text"] = scrub(_text(output["text"]))
            for mime, value in list((output.get("data") or {}).items()):
                if isinstance(value, list):
                    value = "".join(value)
                if isinstance(value, str) and not mime.startswith("image/"):
                    output["data"][mime] = scrub(value)
