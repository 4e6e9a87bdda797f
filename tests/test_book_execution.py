"""Pages executed side by side land in the cache where Jupyter Book looks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from course_utils.instructor import book_execution
from tests.notebook_tools import MYST_PAGE

pytestmark = [pytest.mark.kernel, pytest.mark.book]



def _book(folder: Path, pages: dict[str, str]) -> list[Path]:
    folder.mkdir()
    (folder / "_config.yml").write_text(
        "title: parallel test\nexecute:\n  execute_notebooks: cache\n"
        "  cache: _build/.jupyter_cache\n  timeout: 60\n")
    chapters = "".join(f"  - file: {name}\n" for name in pages)
    (folder / "_toc.yml").write_text(f"format: jb-book\nroot: intro\nchapters:\n{chapters}")
    (folder / "intro.md").write_text("# Intro\n\nNo code here.\n")
    for name, code in pages.items():
        (folder / f"{name}.md").write_text(MYST_PAGE.format(title=name, code=code))
    return [folder / "intro.md", *(folder / f"{name}.md" for name in pages)]


def test_pages_run_at_once_and_jupyter_book_reuses_them(tmp_path):
    def sleeper(name: str) -> str:
        # Each page records when it ran: two that overlap ran at the same time.
        return (f"import os, time\nstart = time.time()\ntime.sleep(3)\n"
                f"open({str(tmp_path / name)!r}, 'w').write(f'{{start}} {{time.time()}}')\n"
                f"print('pid', os.getpid())")

    pages = _book(tmp_path / "book", {"one": sleeper("one"), "two": sleeper("two"),
                                      "three": "print(1 + 1)"})
    cache_dir = tmp_path / "book" / "_build" / ".jupyter_cache"
    outcomes = book_execution.execute_uncached_pages(pages, cache_dir, jobs=3, timeout=60)
    assert sorted(o.page.name for o in outcomes) == ["one.md", "three.md", "two.md"]
    assert {o.status for o in outcomes} == {"executed"}
    (start_1, end_1), (start_2, end_2) = (
        map(float, (tmp_path / name).read_text().split()) for name in ("one", "two"))
    assert start_1 < end_2 and start_2 < end_1, "the two pages ran one after the other"

    again = book_execution.execute_uncached_pages(pages, cache_dir, jobs=3)
    assert {o.status for o in again} == {"cached"}

    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    result = subprocess.run([str(jupyter_book), "build", str(tmp_path / "book"), "-W", "-v"],
                            capture_output=True, text=True, timeout=600,
                            cwd=tmp_path / "book",  # Jupyter Book finds its cache from here
                            env=dict(os.environ, PATH=f"{jupyter_book.parent}{os.pathsep}"
                                     f"{os.environ['PATH']}"))
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-3000:]
    assert "Executing notebook" not in log, "Jupyter Book executed a page again"
    assert log.count("Using cached notebook") == 3, log[-3000:]
    html = (tmp_path / "book" / "_build" / "html" / "two.html").read_text()
    assert "pid" in html


def test_a_failing_page_is_reported_and_left_out_of_the_cache(tmp_path):
    pages = _book(tmp_path / "book", {"good": "print('fine')",
                                      "bad": "raise ValueError('the claim failed')"})
    cache_dir = tmp_path / "book" / "_build" / ".jupyter_cache"
    seen = []
    outcomes = book_execution.execute_uncached_pages(pages, cache_dir, jobs=2,
                                                     report=seen.append)
    by_name = {o.page.name: o for o in outcomes}
    assert by_name["good.md"].status == "executed"
    assert by_name["bad.md"].status == "failed"
    assert "the claim failed" in by_name["bad.md"].error
    assert sorted(o.page.name for o in seen) == ["bad.md", "good.md"]
    again = {o.page.name: o.status
             for o in book_execution.execute_uncached_pages(pages, cache_dir, jobs=1)}
    assert again == {"good.md": "cached"}  # bad.md is not cached, and jobs=1 runs nothing


@pytest.mark.parametrize("jobs", [0, -1, 1.5, True])
def test_jobs_must_be_a_positive_whole_number(tmp_path, jobs):
    with pytest.raises(ValueError, match="jobs must be a whole number of at least 1; received"):
        book_execution.execute_uncached_pages([], tmp_path / "cache", jobs=jobs)
