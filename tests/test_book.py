"""The book builds as `make book` builds it: every page executed, no warning,
figures present, and nothing of the solutions published."""

from __future__ import annotations

import html
import json
import re

import pytest

from tests.notebook_tools import REPO_ROOT, assignment_ids, book_pages
from tests.test_assignments import _hidden_and_solution_lines

HTML = REPO_ROOT / "_build" / "html"
pytestmark = pytest.mark.book


def test_build_has_no_warnings(build_log):
    warnings = [line for line in build_log.splitlines() if "WARNING" in line
                and "Kernel is running over TCP" not in line]
    assert not warnings, "\n".join(warnings[:20])
    assert (HTML / "index.html").is_file()


@pytest.mark.parametrize("page", [p for p in book_pages() if p.stem not in ("intro", "references")],
                         ids=lambda p: p.stem)
def test_chapter_pages_have_executed_figures(build_log, page):
    built = HTML / "book" / f"{page.stem}.html"
    assert built.is_file(), f"{built} was not built"
    text = built.read_text()
    images = re.findall(r'<img[^>]+src="([^"]+)"', text)
    figures = [src for src in images if "_images/" in src]
    assert figures, f"{page.name} shows no figure"
    for src in figures:
        assert (built.parent / src).resolve().is_file(), f"{page.name}: missing image {src}"
    visible = html.unescape(re.sub(r"<[^>]+>", " ", text))
    assert "Traceback" not in visible and "np.float64(" not in visible
    # A cell whose last line returns a value shows it: a lone number is a stray
    # return value (such as a seed), never something the page means to show.
    plain = re.findall(r'<div class="output text_plain[^>]*><div class="highlight"><pre>'
                       r'(?:<span></span>)?(.*?)</pre>', text, re.S)
    stray = [out.strip() for out in plain if re.fullmatch(r"-?\d+(\.\d+)?", out.strip())]
    assert not stray, f"{page.name} shows stray return values: {stray}"


def test_bibliography_and_cross_references_resolve(build_log):
    references = (HTML / "book" / "references.html").read_text()
    # The bibliography style puts titles in sentence case.
    assert "Glorot" in references and "understanding the difficulty" in references.lower()
    chapter = (HTML / "book" / "01-unstable-gradients.html").read_text()
    assert "references.html#id" in chapter  # a {cite} became a link


@pytest.mark.parametrize("assignment", assignment_ids())
def test_exercise_page_offers_the_student_notebook(build_log, assignment):
    page = HTML / "exercises" / assignment / f"{assignment}.html"
    assert page.is_file(), f"the exercise page {page} is missing"
    downloadable = HTML / "_sources" / "exercises" / assignment / f"{assignment}.ipynb"
    released = REPO_ROOT / "exercises" / assignment / f"{assignment}.ipynb"
    assert downloadable.read_bytes() == released.read_bytes()
    assert f"_sources/exercises/{assignment}/{assignment}.ipynb" in page.read_text()


def test_no_solution_or_hidden_test_is_published(build_log):
    published = "\n".join(
        html.unescape(path.read_text(errors="replace"))
        for path in HTML.rglob("*") if path.suffix in (".html", ".ipynb", ".md", ".txt"))
    assert "BEGIN HIDDEN TESTS" not in published and "BEGIN SOLUTION" not in published
    # The published site is made from the chapter pages and the releases. Code
    # they show on purpose (`keras.utils.set_random_seed(1)` in a visible test)
    # is no leak even if a solution contains it too; anything else of a solution
    # in the site is. (That a release holds no line of its own solution is
    # checked line by line in tests/test_assignments.py.)
    public = "\n".join([page.read_text() for page in book_pages()] + [
        "".join(cell["source"]) for assignment in assignment_ids()
        for cell in json.loads((REPO_ROOT / "exercises" / assignment / f"{assignment}.ipynb")
                               .read_text())["cells"]])
    for assignment in assignment_ids():
        source = REPO_ROOT / "solutions" / assignment / f"{assignment}.ipynb"
        leaked = [line for line in _hidden_and_solution_lines(source)
                  if line in published and line not in public]
        assert not leaked, f"{assignment}: published solution lines {leaked[:3]}"


_DETAILS = re.compile(r"<details\b([^>]*)>(.*?)</details>", re.S)


def self_check_problems(text: str) -> list[str]:
    """What is wrong with a built chapter's Self-check section (empty if nothing).

    The section is the page's last ``## Self-check``: 4 to 6 questions, each with
    its answer in a sphinx-design dropdown, a native ``<details>`` element that
    is closed unless the reader opens it (no JavaScript needed, works offline).
    """
    found = re.search(r'<section\b[^>]*\bid="self-check"', text)
    if found is None:
        return ["no 'Self-check' section"]
    start = found.start()
    end = text.find("</article>", start)
    section = text[start:end if end > 0 else len(text)]
    answers = _DETAILS.findall(section)
    problems = []
    if not 4 <= len(answers) <= 6:
        problems.append(f"{len(answers)} hidden answers in Self-check, expected 4 to 6")
    for attributes, body in answers:
        if "sd-dropdown" not in attributes:
            problems.append(f"an answer is a <details> without the sd-dropdown class: {attributes}")
        if re.search(r"\bopen\b", attributes):
            problems.append("an answer is open by default")
        summary = re.search(r"<summary\b.*?</summary>(.*)", body, re.S)
        if summary is None or not re.sub(r"<[^>]+>|\s", "", summary.group(1)):
            problems.append("an answer has no summary or no hidden text")
    questions = html.unescape(re.sub(r"<[^>]+>", " ", _DETAILS.sub(" ", section))).count("?")
    if questions < len(answers):
        problems.append(f"{len(answers)} answers but only {questions} question marks outside them")
    return problems


@pytest.mark.parametrize("page", [p for p in book_pages() if p.stem not in ("intro", "references")],
                         ids=lambda p: p.stem)
def test_chapter_ends_with_a_self_check_whose_answers_are_hidden(build_log, page):
    built = HTML / "book" / f"{page.stem}.html"
    assert built.is_file(), f"{built} was not built"
    problems = self_check_problems(built.read_text())
    assert not problems, f"{page.name}: " + "; ".join(problems)
