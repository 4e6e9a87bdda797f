"""Kernels started side by side get TensorFlow thread pools sized to their share of the cores."""

import os

import pytest

from course_utils.instructor import book_execution
from course_utils.instructor.book_execution import THREAD_VARIABLES, share_cores


@pytest.mark.parametrize(("cores", "jobs", "threads"), [(2, 2, "1"), (8, 2, "4"), (2, 4, "1"),
                                                        (4, 1, "4")])
def test_each_kernel_gets_its_share(monkeypatch, cores, jobs, threads):
    monkeypatch.setattr(book_execution, "default_jobs", lambda: cores)
    for name in THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    share_cores(jobs)
    assert [os.environ[name] for name in THREAD_VARIABLES] == [threads, threads]


def test_a_setting_of_the_user_is_kept(monkeypatch):
    monkeypatch.setattr(book_execution, "default_jobs", lambda: 8)
    monkeypatch.setenv("TF_NUM_INTRAOP_THREADS", "3")
    monkeypatch.delenv("TF_NUM_INTEROP_THREADS", raising=False)
    share_cores(2)
    assert os.environ["TF_NUM_INTRAOP_THREADS"] == "3"
    assert os.environ["TF_NUM_INTEROP_THREADS"] == "4"
