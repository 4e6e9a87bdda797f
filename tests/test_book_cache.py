"""The execution cache re-runs exactly the pages whose dependencies changed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from course_utils.instructor import book_cache
from course_utils.instructor.cli import toc_pages
from tests.notebook_tools import MYST_PAGE, REPO_ROOT

PACKAGE = REPO_ROOT / "course_utils"



def test_chapter_one_depends_on_its_helpers_only():
    names = {p.name for p in book_cache.page_dependencies(
        REPO_ROOT / "book" / "01-unstable-gradients.md")}
    assert {"__init__.py", "diagnostics.py", "data.py", "plotting.py"} <= names
    assert not any("grading" in str(p) for p in book_cache.page_dependencies(
        REPO_ROOT / "book" / "01-unstable-gradients.md"))
    assert "activations.py" not in names


def test_dependencies_follow_a_helper_module_into_the_modules_it_imports():
    # 07 imports the optimizers from `course_utils`; their base class lives in another module.
    names = {p.name for p in book_cache.page_dependencies(
        REPO_ROOT / "book" / "07-optimizers.md")}
    assert {"optimizers.py", "optimizer_base.py", "optimizer_experiments.py"} <= names


def test_pages_without_course_utils_have_no_fingerprint(tmp_path):
    page = tmp_path / "plain.md"
    page.write_text(MYST_PAGE.format(title="Plain", code="print(1 + 1)"))
    assert book_cache.page_dependencies(page) == []
    assert book_cache.page_fingerprint(page, tmp_path, data_fingerprint="d") == ""


def test_fingerprint_follows_module_imports_and_requirements(tmp_path):
    package = tmp_path / "course_utils"
    shutil.copytree(PACKAGE, package, ignore=shutil.ignore_patterns("__pycache__"))
    page = tmp_path / "page.md"
    page.write_text(MYST_PAGE.format(title="P", code="from course_utils import activation_stats"))
    (tmp_path / "requirements.txt").write_text("numpy==1\n")
    before = book_cache.page_fingerprint(page, tmp_path, package, "d")
    # diagnostics.py imports nothing from data.py: a change there is irrelevant...
    (package / "checks.py").write_text((package / "checks.py").read_text() + "\n# edit\n")
    assert book_cache.page_fingerprint(page, tmp_path, package, "d") == before
    # ...but a change in the module itself, the requirements or the data is not.
    diagnostics = package / "ch01_unstable_gradients" / "diagnostics.py"
    diagnostics.write_text(diagnostics.read_text() + "\n#\n")
    after_module = book_cache.page_fingerprint(page, tmp_path, package, "d")
    assert after_module != before
    (tmp_path / "requirements.txt").write_text("numpy==2\n")
    after_requirements = book_cache.page_fingerprint(page, tmp_path, package, "d")
    assert after_requirements != after_module
    assert book_cache.page_fingerprint(page, tmp_path, package, "e") != after_requirements


def test_toc_pages_are_the_executed_book_pages():
    pages = toc_pages(REPO_ROOT)
    assert pages[0] == REPO_ROOT / "book" / "intro.md"
    assert REPO_ROOT / "book" / "01-unstable-gradients.md" in pages
    assert not any("exercises" in str(p) for p in pages)


def _records(cache_dir: Path) -> dict[str, object]:
    """Page name -> when its cached outputs were created (i.e. it was executed)."""
    from jupyter_cache import get_cache

    return {Path(r.uri).name: r.created for r in get_cache(str(cache_dir)).list_cache_records()}


@pytest.mark.book
def test_rebuild_executes_exactly_the_affected_pages(tmp_path):
    book, package = tmp_path / "book", tmp_path / "course_utils"
    book.mkdir()
    shutil.copytree(PACKAGE, package, ignore=shutil.ignore_patterns("__pycache__"))
    (book / "_config.yml").write_text(
        "title: cache test\nexecute:\n  execute_notebooks: cache\n"
        "  cache: _build/.jupyter_cache\n")
    (book / "_toc.yml").write_text(
        "format: jb-book\nroot: intro\nchapters:\n  - file: uses_data\n  - file: uses_checks\n")
    (book / "intro.md").write_text("# Intro\n")
    (book / "uses_data.md").write_text(MYST_PAGE.format(
        title="Data", code="from course_utils import CLASS_NAMES\nprint(CLASS_NAMES[0])"))
    (book / "uses_checks.md").write_text(MYST_PAGE.format(
        title="Checks",
        code="from course_utils.checks import check_scalar\ncheck_scalar('x', 1.0, 1.0)"))
    (book / "requirements.txt").write_text("pinned==1\n")
    pages = toc_pages(book)
    cache_dir = book / "_build" / ".jupyter_cache"
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    env = dict(os.environ, PATH=os.pathsep.join([str(jupyter_book.parent), os.environ["PATH"]]))

    def build() -> list[Path]:
        stale = book_cache.invalidate_stale_pages(book, pages, cache_dir, package, "d")
        result = subprocess.run([str(jupyter_book), "build", str(book), "-W"], env=env, cwd=book,
                                capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        book_cache.record_fingerprints(book, pages, cache_dir, package, "d")
        return stale

    assert build() == []
    first = _records(cache_dir)
    assert set(first) == {"uses_data.md", "uses_checks.md"}
    assert build() == [] and _records(cache_dir) == first  # nothing changed, nothing ran
    data = package / "core" / "data.py"
    data.write_text(data.read_text() + "\n# changed\n")
    assert build() == [book / "uses_data.md"]
    third = _records(cache_dir)
    assert third["uses_checks.md"] == first["uses_checks.md"]  # reused
    assert third["uses_data.md"] != first["uses_data.md"]  # executed again
    (book / "requirements.txt").write_text("pinned==2\n")
    assert sorted(p.name for p in build()) == ["uses_checks.md", "uses_data.md"]
