"""`job.grade` directly: the wall-time limit and the notebook-name rule."""

from __future__ import annotations

import json
import time

import pytest

from course_utils.instructor.grading.job import GradeJob, Status, grade
from course_utils.instructor.grading.template import build_template
from tests.grading.small_assignment import solution_notebook, with_answer


@pytest.fixture(scope="module")
def template(small_course_template, tmp_path_factory):
    return build_template(small_course_template, "small",
                          cache_dir=tmp_path_factory.mktemp("template-cache"))


def test_template_knows_the_assignment(template):
    assert template.notebooks == ("small",) and template.max_score == 10.0
    assert template.hidden_lines and all("_hidden_check" in line
                                         for line in template.hidden_lines)


@pytest.mark.kernel
def test_wall_time_limit_stops_the_whole_submission(template, small_course_template):
    looping = with_answer(solution_notebook(small_course_template), 1, "while True:\n    pass")
    job = GradeJob(template, "looper", {"small.ipynb": json.dumps(looping).encode()}, "test",
                   cell_timeout=600, wall_seconds=2, overhead_seconds=8, sandbox=False)
    start = time.monotonic()
    result = grade(job)
    assert time.monotonic() - start < 60
    assert (result.status, result.score) == (Status.WALL_TIME, 0.0), result.message
    assert "wall-time limit of 2 s" in result.message


def test_several_notebooks_none_with_the_right_name(template):
    job = GradeJob(template, "ann", {"a.ipynb": b"{}", "b.ipynb": b"{}"}, "test")
    result = grade(job)
    assert result.status == Status.UNREADABLE and result.score == 0.0
    assert result.message == "unreadable: expected small.ipynb, received a.ipynb, b.ipynb"
