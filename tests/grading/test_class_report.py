"""The class report (``grading-report-<assignment>.html``).

Fast tests read a hand-made autograded notebook and a hand-made JSON report;
the slow one grades a small class with ``course grade`` and opens the page in
headless Chromium (Debian's chromium and chromedriver, as tests/test_browser.py):
no console error, no network request, and the table's numbers equal grades.csv.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from course_utils.instructor.grading.class_report import (
    build_html,
    collect_failures,
    failure_reasons,
)
from tests.grading.conftest import run_course_grade
from tests.grading.small_assignment import (
    SOLUTIONS,
    release_notebook,
    solution_notebook,
    with_answer,
    write_notebook,
)

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"

# An IPython traceback as nbclient stores it (with ANSI colours).
_TRACEBACK = [
    "\x1b[31m---------------------------------------------------------------------------\x1b[39m",
    "\x1b[31mAssertionError\x1b[39m                            Traceback (most recent call last)",
    "\x1b[36mCell\x1b[39m\x1b[36m \x1b[39m\x1b[32mIn[5]\x1b[39m\x1b[32m, line 4\x1b[39m\n"
    "\x1b[32m      2\x1b[39m _result = mean_abs(np.array([-\x1b[32m1.0\x1b[39m]))\n"
    "\x1b[32m----> \x1b[39m\x1b[32m4\x1b[39m \x1b[38;5;28;01massert\x1b[39;00m "
    "\x1b[38;5;28mtype\x1b[39m(_result) \x1b[38;5;129;01mis\x1b[39;00m \x1b[38;5;28mfloat\x1b[39m, "
    "\x1b[33mf\x1b[39m\x1b[33m\"\x1b[39m\x1b[33mmust be float\x1b[39m\x1b[33m\"\x1b[39m",
    "\x1b[31mAssertionError\x1b[39m: mean_abs must return a Python float, got <class "
    "'numpy.float64'>",
]


def _graded_notebook(tracebacks: dict[str, tuple[str, str, list[str]]]) -> dict:
    cells = []
    for grade_id in ("test_task1", "test_task2"):
        outputs = []
        if grade_id in tracebacks:
            ename, evalue, traceback = tracebacks[grade_id]
            outputs.append({"output_type": "error", "ename": ename, "evalue": evalue,
                            "traceback": traceback})
        cells.append({"cell_type": "code", "source": "", "outputs": outputs,
                      "metadata": {"nbgrader": {"grade": True, "grade_id": grade_id,
                                                "points": 2}}})
    return {"cells": cells}


def test_failure_reason_is_error_type_and_failed_check():
    notebook = _graded_notebook({"test_task2": ("AssertionError", "must be float", _TRACEBACK)})
    assert failure_reasons(notebook) == {"test_task2": (
        "AssertionError", 'assert type(_result) is float, f"must be float"', "must be float")}


def test_failed_check_is_found_from_the_message_when_the_traceback_is_redacted():
    notebook = _graded_notebook({"test_task2": (
        "AssertionError", "expected 2.0, got 2.5", ["AssertionError: expected 2.0, got 2.5"])})
    notebook["cells"][1]["source"] = (
        "_result = mean_abs(np.array([-1.0, 1.0, -4.0, 2.0]))\n"
        "assert type(_result) is float, f\"must return a float, got {type(_result)}\"\n"
        "assert abs(_result - 2.0) <= 1e-12, f\"expected 2.0, got {_result}\"\n")
    assert failure_reasons(notebook)["test_task2"] == (
        "AssertionError", 'assert abs(_result - 2.0) <= 1e-12, f"expected 2.0, got {_result}"',
        "expected 2.0, got 2.5")
    # a hidden test's message matches no visible line: the check stays empty
    notebook["cells"][1]["outputs"][0]["evalue"] = "_hidden_check values"
    assert failure_reasons(notebook)["test_task2"][1] == ""


def test_failures_are_grouped_and_counted(tmp_path):
    same = {"test_task2": ("AssertionError", "x", _TRACEBACK)}
    other = {"test_task1": ("NameError", "name 'square' is not defined",
                            ["---> 3 _result = square(_x)", "NameError: ..."])}
    for student, failures in (("ann", same), ("ben", same), ("cy", other), ("dee", {})):
        write_notebook(tmp_path / student / "a1" / "a1.ipynb", _graded_notebook(failures))
    groups = collect_failures(tmp_path, "a1", ["ann", "ben", "cy", "dee", "missing"])
    assert [(g.cell, g.error, len(g.students)) for g in groups] == [
        ("test_task2", "AssertionError", 2), ("test_task1", "NameError", 1)]
    assert groups[0].students == ["ann", "ben"]
    assert groups[1].check == "_result = square(_x)"


def _report() -> dict:
    rows = [{"student": "ann", "score": 7.5, "max_score": 10, "status": "graded",
             "message": "", "audit": "", "tasks": {"t1": 2.0, "t2": 5.5}},
            {"student": "bob", "score": 0, "max_score": 10, "status": "timed out",
             "message": "cell timeout", "audit": "import-socket", "tasks": {"t1": 0, "t2": 0}}]
    return {"assignment": "a1", "tasks": [["t1", 2.0], ["t2", 8.0]], "rows": rows}


def test_page_is_self_contained_and_shows_every_part():
    page = build_html(_report(), [], {"ann": 3.25})
    assert not re.search(r"(src|href)\s*=\s*['\"]?(https?:|//)", page)
    assert "@import" not in page and "url(" not in page
    images = re.findall(r"<img [^>]*src='([^']*)'", page)
    assert len(images) == 3 and all(src.startswith("data:image/png;base64,") for src in images)
    for section in ("Tasks", "Why tests failed", "Statuses", "Time per submission",
                    "Audit flags", "Students"):
        assert f"<h2>{section}</h2>" in page
    # full / partial / zero shares: t1 full for ann, zero for bob; t2 partial and zero
    assert re.search(r"<td>t1</td><td class='n'>2</td><td class='n'>50%</td>"
                     r"<td class='n'>0%</td><td class='n'>50%</td>", page)
    assert re.search(r"<td>t2</td><td class='n'>8</td><td class='n'>0%</td>"
                     r"<td class='n'>50%</td><td class='n'>50%</td>", page)
    assert "<td>timed out</td><td class='n'>1</td>" in page
    assert "<td>bob</td><td>import-socket</td>" in page


# --------------------------------------------------------------------------- slow
def _students(course: Path) -> dict[str, dict]:
    release, solution = release_notebook(course), solution_notebook(course)
    wrong_type = with_answer(solution, 2, "def mean_abs(x):\n"
                             "    return np.mean(np.abs(np.asarray(x, dtype=np.float64)))")
    return {
        "alice": solution,
        "bob": with_answer(release, 1, SOLUTIONS[1]),
        "carol": wrong_type,
        "dave": wrong_type,
        "erin": with_answer(solution, 3, "def standardize(x):\n"
                            "    x = np.asarray(x, dtype=np.float64)\n    return x - x.mean()"),
        "gina": with_answer(solution, 1, "import subprocess\n" + SOLUTIONS[1]),
        "henry": with_answer(solution, 3, "while True:\n    pass"),
    }


@pytest.fixture(scope="module")
def graded(small_course_template, tmp_path_factory):
    from tests.grading.conftest import copy_course

    base = tmp_path_factory.mktemp("class-report")
    course = copy_course(small_course_template, base / "course")
    folder = base / "class"
    for student, notebook in _students(course).items():
        write_notebook(folder / f"{student}.ipynb", notebook)
    (folder / "frank.ipynb").write_bytes(b"\x00 not a notebook")
    run = run_course_grade(course, folder, "--jobs", "2", "--timeout", "5", output=base / "out")
    assert run.returncode == 0, run.stderr[-3000:]
    return base / "out", run


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    assert Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists(), (
        "install Debian's chromium and chromium-driver")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage", "--window-size=1280,1600",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


@pytest.mark.grade
@pytest.mark.browser
def test_report_in_a_browser_matches_grades_csv(graded, browser):
    output, run = graded
    page = output / "grading-report-small.html"
    assert page.is_file()
    browser.get("about:blank")  # the new-tab page loads chrome:// resources: drop them
    browser.get_log("browser")
    browser.get_log("performance")
    browser.get(page.as_uri())
    assert browser.execute_script("return document.readyState") == "complete"
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []
    requests = [json.loads(entry["message"])["message"] for entry in
                browser.get_log("performance")]
    urls = {m["params"]["request"]["url"] for m in requests
            if m["method"] == "Network.requestWillBeSent"}
    assert {url for url in urls if not url.startswith(("data:", "chrome:", "chrome-untrusted:"))
            } == {page.as_uri()}, urls
    assert browser.execute_script(
        "return performance.getEntriesByType('resource').length") == 0
    assert browser.execute_script(
        "return Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")

    with (output / "grades.csv").open(newline="") as handle:
        expected = {row["student"]: row for row in csv.DictReader(handle)}
    header = browser.execute_script(
        "return Array.from(document.querySelectorAll('#students th')).map(c => c.textContent)")
    shown = browser.execute_script(
        "return Array.from(document.querySelectorAll('#students tbody tr'))"
        ".map(r => Array.from(r.cells).map(c => c.textContent))")
    assert len(shown) == len(expected) == 8
    columns = ["score", "max_score", "status", "test_task1", "test_task2", "test_task3"]
    for cells in shown:
        row = dict(zip(header, cells))
        assert [row[c] for c in columns] == [expected[row["student"]][c] for c in columns]

    # sorting: a click on "score" puts the lowest score first, a second the highest
    browser.execute_script("document.querySelectorAll('#students th')[1].click()")
    first = browser.execute_script(
        "return document.querySelector('#students tbody tr').cells[1].textContent")
    assert float(first) == min(float(r["score"]) for r in expected.values())
    browser.execute_script("document.querySelectorAll('#students th')[1].click()")
    first = browser.execute_script(
        "return document.querySelector('#students tbody tr').cells[1].textContent")
    assert float(first) == max(float(r["score"]) for r in expected.values())

    text = page.read_text()
    failures = browser.execute_script(
        "return Array.from(document.querySelectorAll('#failures tr')).slice(1)"
        ".map(r => Array.from(r.cells).map(c => c.textContent))")
    wrong_type = [f for f in failures if f[0] == "test_task2" and "is float" in f[2]]
    assert len(wrong_type) == 1 and wrong_type[0][3] == "2", failures
    assert "carol, dave" in wrong_type[0][4]
    assert any(f[0] == "test_task3" and "erin" in f[4] and "_hidden_check" in f[1]
               for f in failures), failures
    statuses = dict(browser.execute_script(
        "return Array.from(document.querySelectorAll('#statuses tr')).slice(1)"
        ".map(r => [r.cells[0].textContent, r.cells[1].textContent])"))
    assert statuses["unreadable"] == "1" and statuses["timed out"] == "1", statuses
    assert "gina" in browser.execute_script(
        "return document.querySelector('#audit').textContent")
    assert "Time per submission" in text and text.count("data:image/png;base64,") == 3
