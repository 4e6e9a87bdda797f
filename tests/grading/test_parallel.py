"""Issue 10: --jobs 2 and --dask give the same gradebook as --jobs 1.

The expected scores are the same as in test_bad_submissions, which grades the
whole set of cases with --jobs 2.
"""

from __future__ import annotations

import os

import pytest

from tests.grading.cases import CELL_TIMEOUT, build_cases, write_cases
from tests.grading.conftest import copy_course, gradebook_scores, run_course_grade
from tests.grading.dask_recipe import dask_cluster

pytestmark = pytest.mark.grade  # every test here runs `course grade`

STUDENTS = ("correct", "partial", "syntax_error", "os_exit")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """The README's recipe: `dask scheduler` and two `dask worker` commands, each
    started in a folder of its own (no shared filesystem with the course)."""
    with dask_cluster(tmp_path_factory.mktemp("dask")) as address:
        yield address


@pytest.fixture(scope="module")
def submissions(small_course_template, tmp_path_factory):
    root = tmp_path_factory.mktemp("parallel")
    cases = {s: c for s, c in build_cases(small_course_template).items() if s in STUDENTS}
    write_cases(cases, root / "submitted")
    return root / "submitted", cases


def test_jobs_1_jobs_2_and_dask_give_identical_gradebooks(cluster, submissions,
                                                          small_course_template, tmp_path):
    folder, cases = submissions
    serial = copy_course(small_course_template, tmp_path / "serial")
    two_jobs = copy_course(small_course_template, tmp_path / "two_jobs")
    on_dask = copy_course(small_course_template, tmp_path / "dask")
    args = ("--timeout", str(CELL_TIMEOUT))
    one = run_course_grade(serial, folder, *args, "--jobs", "1")
    assert one.returncode == 0, one.stderr[-3000:]
    two = run_course_grade(two_jobs, folder, *args, "--jobs", "2")
    assert two.returncode == 0, two.stderr[-3000:]
    assert gradebook_scores(serial) == gradebook_scores(two_jobs)
    assert {s: (r["score"], r["status"]) for s, r in one.rows().items()} == \
        {s: (r["score"], r["status"]) for s, r in two.rows().items()}
    many = run_course_grade(on_dask, folder, *args, "--dask", cluster)
    assert many.returncode == 0, many.stderr[-3000:]

    expected = {student: case.score for student, case in cases.items()}
    assert {s: r["score"] for s, r in one.rows().items()} == expected
    assert gradebook_scores(serial) == gradebook_scores(on_dask)
    assert {s: (r["score"], r["status"]) for s, r in one.rows().items()} == \
        {s: (r["score"], r["status"]) for s, r in many.rows().items()}

    from distributed import Client

    with Client(cluster) as client:
        worker_pids = {str(pid) for pid in client.run(os.getpid).values()}
    graders = {r["grader"].rsplit(":", 1)[1] for r in many.rows().values()}
    assert graders <= worker_pids and graders, (
        f"graded by {graders}, not by the Dask workers {worker_pids}")
    serial_graders = {r["grader"] for r in one.rows().values()}
    assert len(serial_graders) == 1, "--jobs 1 grades in the command's own process"


def test_long_lived_graders_give_the_same_results_as_fresh_ones(submissions,
                                                                 small_course_template,
                                                                 tmp_path):
    folder, cases = submissions
    reused = copy_course(small_course_template, tmp_path / "reused")
    fresh = copy_course(small_course_template, tmp_path / "fresh")
    args = ("--timeout", str(CELL_TIMEOUT), "--jobs", "1")
    one = run_course_grade(reused, folder, *args)
    other = run_course_grade(fresh, folder, *args, "--fresh-grader")
    assert one.returncode == 0 and other.returncode == 0, (one.stderr[-2000:],
                                                          other.stderr[-2000:])

    def outcome(run):
        return {s: (r["score"], r["status"], r["message"], r["tasks"])
                for s, r in run.rows().items()}

    assert outcome(one) == outcome(other)
    assert {s: r["score"] for s, r in one.rows().items()} == \
        {student: case.score for student, case in cases.items()}
    assert gradebook_scores(reused) == gradebook_scores(fresh)

