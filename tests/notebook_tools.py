"""Running notebooks and nbgrader the way the book and the instructors do."""

from __future__ import annotations

import dataclasses
import datetime
import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def assignment_ids() -> list[str]:
    """The assignments in ``solutions/``, found on disk."""
    source = REPO_ROOT / "solutions"
    return sorted(p.name for p in source.iterdir()
                  if (p / f"{p.name}.ipynb").is_file()) if source.is_dir() else []


def book_pages() -> list[Path]:
    """The chapter pages listed in ``_toc.yml`` under ``book/``."""
    pages = []
    for line in (REPO_ROOT / "_toc.yml").read_text().splitlines():
        line = line.strip()
        if line.startswith(("- file: book/", "root: book/")):
            name = line.split(":", 1)[1].strip()
            pages.append(REPO_ROOT / f"{name}.md")
    return pages


@dataclass
class PageRun:
    seconds: float
    stderr: list[str]
    errors: list[str]
    cell_seconds: list[tuple[float, str]] = dataclasses.field(default_factory=list)

    def slowest(self, n: int = 5) -> list[tuple[float, str]]:
        """The ``n`` slowest code cells: (seconds, first line of the cell)."""
        return sorted(self.cell_seconds, reverse=True)[:n]


def run_page(path: Path, timeout: int = 300) -> PageRun:
    """Executes a MyST page like Jupyter Book does (cwd = its folder)."""
    import jupytext
    from nbclient import NotebookClient

    notebook = jupytext.read(path)
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                            allow_errors=True, record_timing=True,
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    stderr, errors, cell_seconds = [], [], []
    for cell in notebook.cells:
        timing = cell.get("metadata", {}).get("execution", {})
        if "iopub.execute_input" in timing and "shell.execute_reply" in timing:
            lines = [line for line in cell.source.splitlines() if line and line[0] not in ":#"]
            cell_seconds.append((
                (datetime.datetime.fromisoformat(timing["shell.execute_reply"].rstrip("Z"))
                 - datetime.datetime.fromisoformat(timing["iopub.execute_input"].rstrip("Z"))
                 ).total_seconds(), lines[0][:70] if lines else ""))
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                stderr.append(output["text"])
            if output.get("output_type") == "error":
                errors.append(f"{output['ename']}: {output['evalue']}")
            glued = output.get("metadata", {}).get("scrapbook", {}).get("name")
            plain = output.get("data", {}).get("text/plain", "")
            if glued and plain.startswith("np."):
                errors.append(f"glue({glued!r}) got a NumPy scalar ({plain}); the book "
                              f"cannot format it: pass float(value) or int(value)")
    return PageRun(seconds, stderr, errors, cell_seconds)


def make_course_copy(tmp: Path, assignment: str) -> Path:
    """A minimal course folder for nbgrader: config and the assignment's source."""
    from course_utils.instructor.grading.notebook_facts import copy_course

    return copy_course(REPO_ROOT, tmp, [assignment])


def nbgrader(course: Path, *args: str, timeout: int = 1200) -> subprocess.CompletedProcess:
    """Runs ``nbgrader <args>`` in ``course``; fails with its output on error."""
    from course_utils.instructor.grading.notebook_facts import nbgrader_env

    result = subprocess.run([str(BIN / "nbgrader"), *args], cwd=course, env=nbgrader_env(),
                            capture_output=True, text=True, timeout=timeout)
    if result.returncode != 0:
        raise AssertionError(
            f"nbgrader {' '.join(args)} exited with {result.returncode}:\n"
            f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return result


def scores(course: Path, assignment: str) -> dict[str, tuple[float, float]]:
    """Student id -> (score, max score) read from the course's gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        result = {}
        for student in gradebook.students:
            try:
                submission = gradebook.find_submission(assignment, student.id)
            except Exception:  # noqa: BLE001 (no submission from this student)
                continue
            result[student.id] = (submission.score, submission.max_score)
        return result


def failed_test_cells(notebook_path: Path) -> list[str]:
    """grade_ids of graded test cells whose output contains an error."""
    notebook = json.loads(notebook_path.read_text())
    failed = []
    for cell in notebook["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade") and cell["cell_type"] == "code":
            for output in cell.get("outputs", []):
                if output.get("output_type") == "error":
                    failed.append(f"{meta['grade_id']}: {output['ename']}: "
                                  f"{output['evalue'][:300]}")
    return failed


# A one-cell MyST notebook page: fill in title and code with str.format.
MYST_PAGE = """---
jupytext:
  text_representation:
    extension: .md
    format_name: myst
kernelspec:
  display_name: Python 3
  language: python
  name: python3
---
# {title}

```{{code-cell}} ipython3
{code}
```
"""
