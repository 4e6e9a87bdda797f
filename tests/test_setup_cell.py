"""The set-up cell: installs course_utils where it is missing, does nothing elsewhere."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from course_utils.instructor import setup_cell
from tests.notebook_tools import REPO_ROOT, assignment_ids, book_pages


def _run_cell(python: str, code: str, env_changes: dict[str, str], cwd: Path,
              timeout: float = 600) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update(env_changes)
    return subprocess.run([python, "-c", code], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=timeout)


def test_cell_source_comes_from_the_book_config():
    source = setup_cell.install_source(REPO_ROOT)
    assert source.startswith("git+https://") and source.endswith("@main")
    code = setup_cell.cell_source(source)
    compile(code, "setup-cell", "exec")
    assert code.startswith(setup_cell.MARKER) and f'"{source}"' in code
    assert len(code.splitlines()) <= 12, "keep the cell short enough for a student to read"


def test_sync_page_puts_the_cell_first_and_is_idempotent():
    page = "# Title\n\ntext\n\n```{code-cell} ipython3\nimport keras\n```\n"
    once = setup_cell.sync_page(page, "git+https://example.org/x@v1")
    assert once.index(setup_cell.MARKER) < once.index("import keras")
    assert ":tags: [remove-cell]" in once
    assert setup_cell.sync_page(once, "git+https://example.org/x@v1") == once
    moved = setup_cell.sync_page(once, "git+https://example.org/x@v2")
    assert moved.count(setup_cell.MARKER) == 1 and "@v2" in moved and "@v1" not in moved


def test_sync_notebook_adds_one_locked_ungraded_cell():
    notebook = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": "# Exercise"},
                          {"cell_type": "code", "metadata": {}, "source": "import numpy",
                           "outputs": [], "execution_count": None}], "metadata": {}}
    once = setup_cell.sync_notebook(notebook, "git+https://example.org/x@v1")
    assert [c["cell_type"] for c in once["cells"]] == ["markdown", "code", "code"]
    meta = once["cells"][1]["metadata"]["nbgrader"]
    assert meta["locked"] and not meta["grade"] and not meta["solution"]
    assert setup_cell.sync_notebook(once, "git+https://example.org/x@v1") == once


def test_cell_is_a_no_op_where_course_utils_can_be_imported(tmp_path):
    code = setup_cell.cell_source(setup_cell.install_source(REPO_ROOT))
    # An install source that cannot work: if the cell tried to install, it would fail.
    result = _run_cell(sys.executable, code + "\nimport course_utils\nprint('ok')",
                       {"COURSE_UTILS_SOURCE": str(tmp_path / "nowhere")}, cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr


@pytest.mark.slow
def test_cell_installs_course_utils_into_a_fresh_environment(tmp_path):
    """A new venv without course_utils (the stack itself is borrowed from .venv)."""
    venv = tmp_path / "fresh"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = str(venv / "bin" / "python")
    purelib = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    site = subprocess.run([python, "-c", purelib],
                          capture_output=True, text=True, check=True).stdout.strip()
    # numpy, TensorFlow and friends come from the project's environment, through a
    # plain path entry (its .pth files, the editable course_utils among them, are
    # not processed): only course_utils itself is missing.
    Path(site, "borrowed_stack.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    check = _run_cell(python, "import importlib.util as u; print(u.find_spec('course_utils'))",
                      {}, cwd=tmp_path)
    assert check.stdout.strip() == "None", "the fresh environment must lack course_utils"
    # Install from a copy of what the package is built from: pip's build leaves a
    # build/ folder next to the sources, which must not land in the repository.
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO_ROOT / name, source / name)
    shutil.copytree(REPO_ROOT / "course_utils", source / "course_utils",
                    ignore=shutil.ignore_patterns("__pycache__"))
    code = setup_cell.cell_source(setup_cell.install_source(REPO_ROOT))
    result = _run_cell(python, code + "\nimport course_utils\nprint(course_utils.__file__)",
                       {"COURSE_UTILS_SOURCE": source.as_uri()}, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert result.stdout.strip().startswith(site), result.stdout


def test_every_page_and_notebook_carries_the_current_cell():
    stale = setup_cell.sync_course(REPO_ROOT, write=False)
    assert not stale, f"run `make release` (course setup-cell): out of date: {stale}"
    code = setup_cell.cell_source(setup_cell.install_source(REPO_ROOT))
    for page in book_pages():
        text = page.read_text()
        if "```{code-cell}" in text:
            assert text.count(setup_cell.MARKER) == 1, page
            assert text.index(setup_cell.MARKER) < text.index("import "), page
    for assignment in assignment_ids():
        released = json.loads((REPO_ROOT / "exercises" / assignment / f"{assignment}.ipynb")
                              .read_text())
        codes = ["".join(c["source"]) for c in released["cells"] if c["cell_type"] == "code"]
        assert codes[0] == code, (
            f"{assignment}: the release's first code cell is not the set-up cell")
