"""Writing results into the course's real nbgrader gradebook (parent process only).

The assignment's structure (notebooks, graded, solution and source cells) is
copied from the template gradebook, so the real gradebook, formgrader and
``nbgrader export`` see the assignment as if ``nbgrader generate_assignment``
had run in the course. Each result then updates only its own student's
submission: one submission's failure never changes another record.
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

from course_utils.instructor.grading.job import GradeResult
from course_utils.instructor.grading.template import CourseTemplate

__all__ = ["install_assignment", "record_result"]


def install_assignment(db_url: str, template: CourseTemplate) -> None:
    """Creates or updates the assignment's structure in the gradebook at ``db_url``.

    A course without a gradebook yet gets a copy of the template's (built by
    ``nbgrader generate_assignment`` with the course's own configuration, so
    it is the gradebook nbgrader would have created): this skips creating the
    tables with nbgrader's database migrations, about 3 s.
    """
    from nbgrader.api import Gradebook

    if db_url.startswith("sqlite:///"):
        path = Path(db_url[len("sqlite:///"):])
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_name(path.name + ".partial")
            partial.write_bytes(template.gradebook)
            partial.replace(path)  # never a half-written gradebook
            return

    with tempfile.TemporaryDirectory(prefix="course-grade-template-db-") as tmp:
        path = Path(tmp) / "gradebook.db"
        path.write_bytes(template.gradebook)
        with Gradebook(f"sqlite:///{path}") as source, \
                Gradebook(db_url, template.course_id) as target:
            assignment = source.find_assignment(template.assignment)
            target.update_or_create_assignment(assignment.name, duedate=assignment.duedate)
            for notebook in assignment.notebooks:
                target.update_or_create_notebook(notebook.name, assignment.name,
                                                 kernelspec=notebook.kernelspec)
                where = (notebook.name, assignment.name)
                for cell in notebook.grade_cells:
                    target.update_or_create_grade_cell(
                        cell.name, *where, max_score=cell.max_score, cell_type=cell.cell_type)
                for cell in notebook.task_cells:
                    target.update_or_create_task_cell(
                        cell.name, *where, max_score=cell.max_score, cell_type=cell.cell_type)
                for cell in notebook.solution_cells:
                    target.update_or_create_solution_cell(cell.name, *where)
                for cell in notebook.source_cells:
                    target.update_or_create_source_cell(
                        cell.name, *where, cell_type=cell.cell_type, locked=cell.locked,
                        source=cell.source, checksum=cell.checksum)


def record_result(db_url: str, template: CourseTemplate, result: GradeResult,
                  timestamp: str | None = None) -> None:
    """Stores one student's autograded scores in the gradebook at ``db_url``.

    Cells without a score in ``result`` (an unreadable submission, or one
    where nbgrader failed) get an autograded score of 0. Manual scores an
    instructor already gave are kept (nbgrader shows them over the auto score).
    ``timestamp`` is the content of nbgrader's ``timestamp.txt``, if the
    submission had one (late penalties then work as in nbgrader).
    """
    from nbgrader.api import Gradebook

    scores = {(cell.notebook, cell.cell): cell for cell in result.cells}
    with warnings.catch_warnings(), Gradebook(db_url, template.course_id) as gradebook:
        # nbgrader's own update_or_create_submission triggers harmless SQLAlchemy
        # "not in session" warnings.
        warnings.simplefilter("ignore")
        gradebook.update_or_create_student(result.student)
        extra = {}
        if timestamp:
            from nbgrader.utils import parse_utc

            try:
                extra["timestamp"] = parse_utc(timestamp.strip())
            except (ValueError, OverflowError):
                pass
        submission = gradebook.update_or_create_submission(template.assignment, result.student,
                                                           **extra)
        for notebook in submission.notebooks:
            for grade in notebook.grades:
                cell = scores.get((notebook.name, grade.name))
                grade.auto_score = cell.score if cell is not None else 0.0
                grade.needs_manual_grade = cell.needs_manual_grade if cell is not None else False
        gradebook.db.commit()
