"""The set-up cell every chapter page and every exercise starts with.

A page downloaded from the book or opened in Colab runs in a kernel that may
not have ``course_utils``. Its first code cell installs the package there,
with only those of its dependencies the kernel lacks, from the repository
named in ``_config.yml`` (``repository.url`` at ``repository.branch``). Where
``course_utils`` can be imported (JupyterLab in this repository, the book
build, the grader's sandbox, which has no network) the cell does nothing.

The cell runs before ``course_utils`` exists, so its lines live in each
notebook; they are generated here, from one template, by ``course
setup-cell`` (``make release`` runs it), and a test checks that every page
and notebook carries the current text.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

__all__ = ["MARKER", "install_source", "cell_source", "sync_page", "sync_notebook",
           "sync_course"]

MARKER = "# Set-up: lets this notebook import the course's helpers, course_utils."
GRADE_ID = "install_course_utils"

_TEMPLATE = '''{marker}
# Where it is installed (JupyterLab in the course repository, the book, the
# grader) this does nothing; elsewhere (Colab, say) it installs it first.
import importlib, importlib.util, os, subprocess, sys
if importlib.util.find_spec("course_utils") is None:
    source = os.environ.get("COURSE_UTILS_SOURCE", "{source}")
    needs = {{"numpy": "numpy", "matplotlib": "matplotlib", "tabulate": "tabulate",
             "tensorflow": "tensorflow-cpu"}}
    missing = [pip for module, pip in needs.items() if importlib.util.find_spec(module) is None]
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", source,
                    *missing], check=True)
    importlib.invalidate_caches()'''

# Lines 0-3 of the cell are fixed; the source URL may differ between forks.
_PAGE_CELL = re.compile(r"```\{code-cell\}[^\n]*\n(?::tags:[^\n]*\n)?"
                        + re.escape(MARKER) + r".*?\n```\n\n?", re.S)


def install_source(root: Path) -> str:
    """``git+<repository.url>@<repository.branch>`` from the book's ``_config.yml``."""
    import yaml

    config = yaml.safe_load((Path(root) / "_config.yml").read_text(encoding="utf-8")) or {}
    repository = config.get("repository") or {}
    url, branch = repository.get("url"), repository.get("branch") or "main"
    if not url:
        raise ValueError(f"{Path(root) / '_config.yml'} has no repository.url: the set-up cell "
                         "installs course_utils from there.")
    return f"git+{str(url).rstrip('/')}@{branch}"


def cell_source(source: str) -> str:
    """The set-up cell's code for an install ``source`` (a pip requirement or URL)."""
    if '"' in source or "\n" in source:
        raise ValueError(f"Expected a URL or path without quotes. Received: {source!r}")
    return _TEMPLATE.format(marker=MARKER, source=source)


def sync_page(text: str, source: str) -> str:
    """A MyST page's text with the set-up cell first among its code cells."""
    cell = "```{code-cell} ipython3\n:tags: [remove-cell]\n" + cell_source(source) + "\n```\n\n"
    text = _PAGE_CELL.sub("", text)
    first = text.find("```{code-cell}")
    if first < 0:
        return text
    return text[:first] + cell + text[first:]


def sync_notebook(notebook: dict, source: str) -> dict:
    """An nbgrader source notebook with the set-up cell before its first code cell."""
    cells = [c for c in notebook["cells"]
             if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") != GRADE_ID]
    cell = {"cell_type": "code", "execution_count": None, "id": GRADE_ID,
            "metadata": {"editable": False, "deletable": False,
                         "nbgrader": {"grade": False, "grade_id": GRADE_ID, "locked": True,
                                      "schema_version": 3, "solution": False, "task": False}},
            "outputs": [], "source": cell_source(source).splitlines(keepends=True)}
    first = next((i for i, c in enumerate(cells) if c["cell_type"] == "code"), len(cells))
    notebook = dict(notebook, cells=cells[:first] + [cell] + cells[first:])
    return notebook


def _pages(root: Path) -> list[Path]:
    return sorted(p for p in (root / "book").glob("*.md")
                  if "```{code-cell}" in p.read_text(encoding="utf-8"))


def sync_course(root: Path, write: bool = True) -> list[Path]:
    """Brings the set-up cell of every page and source notebook up to date.

    Args:
        root: the course repository.
        write: if False, only report which files are out of date.

    Returns:
        The files that changed (or would change).
    """
    root = Path(root)
    source = install_source(root)
    changed = []
    for page in _pages(root):
        text = page.read_text(encoding="utf-8")
        new = sync_page(text, source)
        if new != text:
            changed.append(page)
            if write:
                page.write_text(new, encoding="utf-8")
    for path in sorted((root / "solutions").glob("*/*.ipynb")):
        text = path.read_text(encoding="utf-8")
        new = json.dumps(sync_notebook(json.loads(text), source), indent=1,
                         sort_keys=True, ensure_ascii=False) + "\n"
        if new != text:
            changed.append(path)
            if write:
                path.write_text(new, encoding="utf-8")
    return changed
