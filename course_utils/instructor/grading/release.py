"""Regenerating the student release (``exercises/``) from ``solutions/``."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from course_utils.instructor.grading.notebook_facts import generated_assignment

__all__ = ["assignment_ids", "release", "normalize_notebook"]


def assignment_ids(course_root: Path) -> list[str]:
    """Returns the ids of the assignments in ``solutions/``, sorted.

    An assignment is a folder ``solutions/<id>/`` with a notebook ``<id>.ipynb``.
    """
    source = Path(course_root) / "solutions"
    return sorted(
        folder.name
        for folder in source.iterdir()
        if folder.is_dir() and (folder / f"{folder.name}.ipynb").is_file()
    ) if source.is_dir() else []


def normalize_notebook(path: Path) -> None:
    """Rewrites a notebook so the same content always gives the same bytes.

    nbgrader's output depends on nothing random, but the JSON writer's layout
    and a few metadata fields do; this fixes the kernelspec, drops outputs and
    execution counts and writes sorted, indented JSON with a final newline.
    """
    notebook = json.loads(Path(path).read_text(encoding="utf-8"))
    notebook.setdefault("metadata", {})["kernelspec"] = {
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
        "name": "python3",
    }
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    Path(path).write_text(
        json.dumps(notebook, indent=1, sort_keys=True, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )


def release(course_root: Path, ids: list[str] | None = None,
            output: Path | None = None) -> list[Path]:
    """Generates the student version of assignments with nbgrader.

    The generation runs in a temporary copy of the course, so the real
    gradebook and ``exercises/`` are only touched at the end, when every
    assignment succeeded.

    Args:
        course_root: the course folder (with ``nbgrader_config.py``).
        ids: the assignments; all of ``solutions/`` by default.
        output: where to write the release (``<course_root>/exercises`` by
            default). Each assignment's folder there is replaced.

    Returns:
        The written notebooks.

    Raises:
        ValueError: for an unknown assignment id.
        RuntimeError: if nbgrader fails; its output is in the message.
    """
    course_root = Path(course_root).resolve()
    known = assignment_ids(course_root)
    ids = known if ids is None else list(ids)
    unknown = sorted(set(ids) - set(known))
    if unknown:
        raise ValueError(
            f"Unknown assignment(s) {unknown}. Expected one of {known} "
            f"(folders solutions/<id>/ with <id>.ipynb)."
        )
    output = Path(output) if output is not None else course_root / "exercises"
    written = []
    with generated_assignment(course_root, ids) as work:
        for assignment in ids:
            generated = work / "exercises" / assignment
            for notebook in generated.glob("*.ipynb"):
                normalize_notebook(notebook)
            target = output / assignment
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(generated, target)
            written.extend(sorted(target.glob("*.ipynb")))
    return written

