"""Fast unit tests of the grading modules (no nbgrader run, no kernel)."""

from __future__ import annotations

import csv
import json
import pickle
import zipfile

import pytest

from course_utils.instructor.grading import ingest, repair, report
from course_utils.instructor.grading.nbgrader_ext import config_lines
from tests.grading.small_assignment import hidden_test_lines, source_notebook


def _notebook_bytes() -> bytes:
    return json.dumps(source_notebook()).encode()


@pytest.mark.parametrize("data, problem", [
    (b"", "unreadable: empty file"),
    (b"  \n", "unreadable: empty file"),
    (b"{\"cells\": [", "unreadable: not valid JSON"),
    (b"\x89PNG\r\n\x1a\n\x00\x00", "unreadable: not a notebook (binary data"),
    (b"[1, 2]", "unreadable: not a notebook (JSON without a 'cells' list; received a list)"),
    (b'{"cells": [], "nbformat": 3}', "unreadable: expected nbformat 4, received nbformat 3"),
    (b'{"cells": [{"source": "x"}], "nbformat": 4}', "a cell without 'cell_type'"),
])
def test_check_notebook_says_what_is_wrong(data, problem):
    notebook, message = ingest.check_notebook(data)
    assert notebook is None and message.startswith(problem) or problem in message, message


def test_check_notebook_accepts_a_notebook():
    notebook, message = ingest.check_notebook(_notebook_bytes())
    assert message == "" and len(notebook["cells"]) == 11


def test_find_submissions_in_the_three_layouts(tmp_path):
    data = _notebook_bytes()
    nbgrader = tmp_path / "course" / "submitted"
    (nbgrader / "ann" / "small").mkdir(parents=True)
    (nbgrader / "ann" / "small" / "small.ipynb").write_bytes(data)
    (nbgrader / "ann" / "small" / "data.csv").write_bytes(b"1,2")
    (nbgrader / "ann" / "other_assignment").mkdir()
    found = ingest.find_submissions(tmp_path / "course", "small")
    assert [(s.student, sorted(s.files), s.layout) for s in found] == [
        ("ann", ["data.csv", "small.ipynb"], "nbgrader")]
    assert ingest.find_submissions(nbgrader, "small")[0].files["small.ipynb"] == data

    flat = tmp_path / "flat"
    flat.mkdir()
    (flat / "Ben Smith.ipynb").write_bytes(data)
    assert [s.student for s in ingest.find_submissions(flat, "small")] == ["Ben_Smith"]

    archive = tmp_path / "lms.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("cy_42_file_/work.ipynb", data)
        handle.writestr("dee.ipynb", data)
        handle.writestr("readme.txt", "not a submission")
    assert [s.student for s in ingest.find_submissions(archive, "small")] == ["cy_42_file", "dee"]


def test_find_submissions_errors_are_clear(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        ingest.find_submissions(tmp_path / "missing", "small")
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(ValueError, match="not a zip archive"):
        ingest.find_submissions(tmp_path / "file.txt", "small")
    clash = tmp_path / "clash"
    clash.mkdir()
    (clash / "a b.ipynb").write_bytes(b"{}")
    (clash / "a_b.ipynb").write_bytes(b"{}")
    with pytest.raises(ValueError, match="Two submissions map to the student id 'a_b'"):
        ingest.find_submissions(clash, "small")
    with pytest.raises(ValueError, match="Cannot make a student id"):
        ingest.student_id_from("...")


def test_duplicated_cells_keep_the_last_copy_and_the_original_is_untouched():
    notebook = source_notebook()
    answer = next(c for c in notebook["cells"] if c["metadata"]["nbgrader"]["grade_id"] == "task2")
    first = json.loads(json.dumps(answer))
    first["source"] = "def mean_abs(x):\n    return 0.0"
    notebook["cells"].insert(notebook["cells"].index(answer), first)
    before = json.dumps(notebook)
    fixed, notes = repair.prepare_for_grading(notebook)
    assert json.dumps(notebook) == before
    assert notes == ["duplicated cell(s) task2: graded the last copy"]
    graded = [c for c in fixed["cells"]
              if c["metadata"].get("nbgrader", {}).get("grade_id") == "task2"]
    assert len(graded) == 1 and "return 0.0" not in graded[0]["source"]
    ids = [c["id"] for c in fixed["cells"]]
    assert len(ids) == len(set(ids)), "cell ids must be unique for nbformat"


def test_redaction_removes_every_hidden_line():
    notebook = source_notebook()
    hidden = hidden_test_lines(notebook)
    test_cell = next(c for c in notebook["cells"] if c["metadata"]["nbgrader"].get("grade"))
    test_cell["outputs"] = [{"output_type": "error", "ename": "AssertionError",
                             "evalue": "_hidden_check values",
                             "traceback": [f"----> 9 {hidden[1]}", "AssertionError"]}]
    spy = notebook["cells"][1]
    spy["outputs"] = [{"output_type": "stream", "name": "stdout",
                       "text": "history:\n" + "\n".join(hidden) + "\nend"}]
    text_before = _all_text(notebook)
    assert all(line in text_before for line in hidden), "the test must be able to fail"
    repair.redact_hidden_tests(notebook, hidden)
    text = _all_text(notebook)
    assert not [line for line in hidden if line in text]
    assert "BEGIN HIDDEN TESTS" not in text
    assert "_result = square(_x)" in text, "visible tests stay"
    assert test_cell["outputs"][0]["traceback"] == ["AssertionError: _hidden_check values"]
    assert spy["outputs"][0]["text"].startswith("history:\n[line removed")


_QUOTED_TEST = '''import numpy as np
_result = mean_abs(np.array([2.0, 5.0, 4.0, 6.0]))
### BEGIN HIDDEN TESTS
_hidden_check_args = (
    [2, 5, 4, 6])
_hidden_check_message = """
the mean of |[2, 5, 4, 6])| is 4.25
"""
assert mean_abs(*_hidden_check_args) == 4.25, _hidden_check_message
### END HIDDEN TESTS'''


def _failing_test_cell(evalue: str) -> tuple[dict, dict, list[str]]:
    """A notebook whose test_task2 has ``_QUOTED_TEST`` and failed with ``evalue``."""
    from course_utils.instructor.grading.template import message_strings

    notebook = source_notebook()
    cell = next(c for c in notebook["cells"]
                if c["metadata"]["nbgrader"]["grade_id"] == "test_task2")
    cell["source"] = _QUOTED_TEST
    hidden = hidden_test_lines(notebook)
    messages = message_strings(notebook, hidden)
    cell["outputs"] = [{"output_type": "error", "ename": "AssertionError", "evalue": evalue,
                        "traceback": [f"----> 9 {hidden[-1]}", f"AssertionError: {evalue}"]}]
    return notebook, cell, messages


def test_a_failing_checks_message_stays_even_when_it_equals_a_hidden_line():
    message = "\nthe mean of |[2, 5, 4, 6])| is 4.25\n"
    notebook, cell, messages = _failing_test_cell(message)
    hidden = hidden_test_lines(notebook)
    assert message.strip() in hidden, "the test must be able to fail"
    repair.redact_hidden_tests(notebook, hidden, messages)
    assert cell["outputs"][0]["evalue"] == message
    assert cell["outputs"][0]["traceback"] == [f"AssertionError: {message}"]
    assert "_hidden_check" not in _all_text(notebook)


@pytest.mark.parametrize("evalue, kept", [
    # A value that happens to repeat a short hidden line: the message stays.
    ("expected a float, got ([2, 5, 4, 6]) instead", "expected a float, got ("),
    # Student code that raises with hidden source as the message.
    ("assert mean_abs(*_hidden_check_args) == 4.25, _hidden_check_message", ""),
])
def test_hidden_source_inside_a_message_is_replaced_not_the_message(evalue, kept):
    notebook, cell, messages = _failing_test_cell(evalue)
    hidden = hidden_test_lines(notebook)
    repair.redact_hidden_tests(notebook, hidden, messages)
    text = _all_text(notebook)
    assert not [line for line in hidden if line in text], text
    shown = cell["outputs"][0]["traceback"][0]
    assert shown.startswith(f"AssertionError: {kept}") and "[hidden test text]" in shown


def test_messages_of_non_test_cells_keep_their_words():
    notebook, _, messages = _failing_test_cell("x")
    hidden = hidden_test_lines(notebook)
    answer = notebook["cells"][1]
    answer["outputs"] = [{"output_type": "error", "ename": "ValueError",
                          "evalue": f"bad input {hidden[1]}",
                          "traceback": [f"Cell In[3], line 2\n----> 2 {hidden[0]}",
                                        f"ValueError: bad input {hidden[1]}"]}]
    repair.redact_hidden_tests(notebook, hidden, messages)
    traceback = answer["outputs"][0]["traceback"]
    assert traceback[0].endswith("[line removed: it repeats a hidden test]")
    assert traceback[1] == "ValueError: bad input [hidden test text]"
    assert answer["outputs"][0]["evalue"] == "bad input [hidden test text]"


def _all_text(value) -> str:
    """Every string inside a JSON value, one per line."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return "\n".join(_all_text(item) for item in value.values())
    if isinstance(value, list):
        return "\n".join(_all_text(item) for item in value)
    return ""


def test_limit_outputs_truncates_text_and_html():
    notebook = {"cells": [{"cell_type": "code", "source": "", "outputs": [
        {"output_type": "stream", "name": "stdout", "text": "x" * 100_000},
        {"output_type": "display_data", "metadata": {},
         "data": {"text/html": "<b>y</b>" * 50_000, "text/plain": "short"}}]}]}
    assert repair.limit_outputs(notebook, limit=1000)
    outputs = notebook["cells"][0]["outputs"]
    assert len(outputs[0]["text"]) < 1200 and "output truncated" in outputs[0]["text"]
    assert "removed" in outputs[1]["data"]["text/html"]
    assert not repair.limit_outputs(notebook, limit=1000), "a second pass changes nothing"


def test_grades_csv_keeps_other_assignments(tmp_path):
    path = tmp_path / "grades.csv"
    report.write_grades_csv(path, "a1", [report.Row("ann", 3, 10, "graded", "x")])
    report.write_grades_csv(path, "a2", [report.Row("ann", 5, 5, "graded", "y", "audit!")])
    report.write_grades_csv(path, "a1", [report.Row("ann", 4, 10, "graded", "z")])
    with path.open(newline="") as handle:
        rows = [(r["assignment"], r["student"], r["score"], r["audit"])
                for r in csv.DictReader(handle)]
    assert sorted(rows) == [("a1", "ann", "4", ""), ("a2", "ann", "5", "audit!")]


def test_grades_csv_has_one_column_per_task(tmp_path):
    path = tmp_path / "grades.csv"
    report.write_grades_csv(path, "a1", [
        report.Row("ann", 3, 10, "graded", "x", tasks={"test_t1": 3.0, "test_t2": 0.0}),
        report.Row("bob", 0, 10, "unreadable", "y")], tasks=("test_t1", "test_t2"))
    report.write_grades_csv(path, "a2", [report.Row("ann", 2, 5, "graded", "z",
                                                    tasks={"test_q": 2.0})], tasks=("test_q",))
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        rows = {(r["assignment"], r["student"]): r for r in reader}
        columns = reader.fieldnames
    assert columns[-3:] == ["test_t1", "test_t2", "test_q"], columns
    assert (rows["a1", "ann"]["test_t1"], rows["a1", "ann"]["test_t2"]) == ("3", "0")
    assert (rows["a1", "bob"]["test_t1"], rows["a1", "bob"]["test_t2"]) == ("0", "0")
    assert rows["a2", "ann"]["test_q"] == "2" and rows["a2", "ann"]["test_t1"] == ""


def test_graded_cells_lists_test_cells_in_order():
    from course_utils.instructor.grading.template import graded_cells

    def cell(grade_id, points=None, grade=True, kind="code"):
        meta = {"grade_id": grade_id, "grade": grade}
        if points is not None:
            meta["points"] = points
        return {"cell_type": kind, "source": "", "metadata": {"nbgrader": meta}}

    notebook = {"cells": [cell("task1", grade=False), cell("test_b", 4), cell("test_a", 2),
                          {"cell_type": "code", "source": "", "metadata": {}}]}
    assert graded_cells(notebook) == [("test_b", 4.0), ("test_a", 2.0)]


def test_state_detects_changed_submissions(tmp_path):
    state = report.State(tmp_path / "state.json")
    digest = report.submission_digest({"a.ipynb": b"1"}, "fp")
    assert state.unchanged("a1", "ann", digest) is None
    state.remember("a1", digest, report.Row("ann", 1, 2, "graded", "m"))
    state.save()
    again = report.State(tmp_path / "state.json")
    assert again.unchanged("a1", "ann", digest).skipped
    assert again.unchanged("a1", "ann", report.submission_digest({"a.ipynb": b"2"}, "fp")) is None
    assert again.unchanged("a1", "ann", report.submission_digest({"a.ipynb": b"1"}, "fp2")) is None


def test_table_has_the_four_columns():
    table = report.format_table([report.Row("ann", 7, 10, "timed out", "timed out in task2")])
    lines = table.splitlines()
    assert lines[0].split() == ["student", "score", "status", "message"]
    assert lines[2].split()[:4] == ["ann", "7", "/", "10"] and "timed out in task2" in lines[2]


def test_table_has_one_column_per_task():
    tasks = (("test_task1", 2.0), ("test_task2", 3.0))
    rows = [report.Row("ann", 2, 5, "graded", "failed: test_task2 (AssertionError)",
                       tasks={"test_task1": 2.0, "test_task2": 0.0}),
            report.Row("bob", 0, 5, "unreadable", "unreadable: empty file", skipped=True,
                       tasks={"test_task1": 0.0, "test_task2": 0.0})]
    lines = report.format_table(rows, tasks=tasks).splitlines()
    assert lines[0].split() == ["student", "score", "test_task1", "test_task2", "status",
                                "message"]
    assert set(lines[1]) == {"-", " "}
    assert lines[2].split()[:6] == ["ann", "2", "/", "5", "2", "0"], lines[2]
    assert lines[3].split()[:7] == ["bob", "0", "/", "5", "0", "0", "unreadable"], lines[3]
    assert "(unchanged)" in lines[3]
    # Columns line up: each task's points end where its header ends.
    end = lines[0].index("test_task2") + len("test_task2")
    assert lines[2][end - 1] == "0" and lines[3][end - 1] == "0"


def test_jobs_and_results_pickle(tmp_path):
    from course_utils.instructor.grading.job import GradeJob, GradeResult
    from course_utils.instructor.grading.template import CourseTemplate

    template = CourseTemplate("small", "c", b"cfg", b"db", {"x.csv": b"1"}, ("small",),
                              ("hidden",), 10.0, "fp")
    job = GradeJob(template, "ann", {"small.ipynb": b"{}"}, "origin", cell_timeout=5)
    assert pickle.loads(pickle.dumps(job)) == job
    result = GradeResult("ann", "graded", "ok", 1.0, 10.0, feedback={"a.html": b"<p>"})
    assert pickle.loads(pickle.dumps(result)).feedback == {"a.html": b"<p>"}


def test_config_lines_enable_the_resilient_executor():
    namespace = {"c": _Config()}
    exec(config_lines(7), namespace)  # our own generated config
    preprocessors = namespace["c"].Autograde.autograde_preprocessors
    assert [p.__name__ for p in preprocessors][0] == "ResilientExecute"
    assert namespace["c"].Execute.timeout == 7


class _Config:
    """A minimal stand-in for traitlets' config object (attribute sections)."""

    def __getattr__(self, name):
        section = type("Section", (), {})()
        object.__setattr__(self, name, section)
        return section


def test_strip_hidden_tests_keeps_the_visible_lines_only():
    from course_utils.instructor.grading.notebook_facts import strip_hidden_tests

    source = ("x = 1\n### BEGIN HIDDEN TESTS\nassert x == 1\n### END HIDDEN TESTS\n"
              "y = 2\n    # BEGIN HIDDEN TESTS (indented)\nsecret()\n\n")
    # The second block is never closed: it runs to the end (safe side).
    assert strip_hidden_tests(source) == "x = 1\ny = 2"
    assert strip_hidden_tests("a\nb\n") == "a\nb"


def test_marked_lines_follow_nbgrader_markers_and_skip_visible_repeats():
    from course_utils.instructor.grading.notebook_facts import (
        HIDDEN_TESTS,
        SOLUTION,
        hidden_test_lines,
        marked_lines,
    )

    notebook = {"cells": [
        {"cell_type": "code", "source": ["### BEGIN SOLUTION\n", "answer = 42\n",
                                         "shared = 1\n", "### END SOLUTION\n"]},
        {"cell_type": "code", "source": "shared = 1\n### BEGIN HIDDEN TESTS\n"
                                        "assert answer == 42\n### END HIDDEN TESTS"},
    ]}
    assert hidden_test_lines(notebook) == ["assert answer == 42"]
    assert marked_lines(notebook, (HIDDEN_TESTS, SOLUTION)) == [
        "answer = 42", "assert answer == 42"]


def test_nbgrader_env_puts_this_python_first_and_applies_changes(monkeypatch):
    import os
    import sys
    from pathlib import Path

    from course_utils.instructor.grading.notebook_facts import nbgrader_env

    monkeypatch.setenv("COURSE_TEST_DROP", "x")
    env = nbgrader_env({"COURSE_TEST_DROP": None, "COURSE_TEST_SET": "1"})
    assert env["PATH"].split(os.pathsep)[0] == str(Path(sys.executable).parent)
    assert "COURSE_TEST_DROP" not in env and env["COURSE_TEST_SET"] == "1"
    assert "COURSE_TEST_DROP" in os.environ, "the process environment is not changed"


def test_a_job_grades_the_notebook_its_caller_already_read(monkeypatch):
    from course_utils.instructor.grading import job as job_module
    from course_utils.instructor.grading.job import GradeJob, Status
    from course_utils.instructor.grading.template import CourseTemplate

    template = CourseTemplate("small", "c", b"cfg", b"db", {}, ("small",), (), 10.0)
    written = {}

    class Stop(Exception):
        pass

    def write_workdir(workdir, job, notebooks, others):
        written.update(notebooks)
        raise Stop

    monkeypatch.setattr(job_module, "_write_workdir", write_workdir)
    # The bytes are unreadable: without `parsed` the job says so, with it the
    # job goes on with the caller's notebook, under the expected name.
    bad = {"mine.ipynb": b"{"}
    assert job_module.grade(GradeJob(template, "ann", bad, "t")).status == Status.UNREADABLE
    parsed = source_notebook()
    with pytest.raises(Stop):
        job_module.grade(GradeJob(template, "ann", bad, "t", parsed={"mine.ipynb": parsed}))
    assert list(written) == ["small.ipynb"]
    assert [c["source"] for c in written["small.ipynb"]["cells"]] == [
        c["source"] for c in parsed["cells"]]
    assert written["small.ipynb"] is not parsed, "the caller's notebook is not modified"
