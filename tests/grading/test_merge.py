"""The real gradebook: created from the template, or updated in place."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from course_utils.instructor.grading import merge
from course_utils.instructor.grading.template import build_template
from tests.grading.conftest import copy_course

pytestmark = pytest.mark.grade  # builds the template with nbgrader


def test_a_new_gradebook_is_the_template_and_an_existing_one_is_updated(
        small_course_template, tmp_path, monkeypatch):
    from nbgrader.api import Gradebook

    # nbgrader creates a database with the `alembic` command of this environment.
    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")

    course = copy_course(small_course_template, tmp_path / "course")
    template = build_template(course, "small")
    new = tmp_path / "fresh" / "gradebook.db"
    merge.install_assignment(f"sqlite:///{new}", template)
    assert new.read_bytes() == template.gradebook
    assert not new.with_name("gradebook.db.partial").exists()
    with Gradebook(f"sqlite:///{new}", template.course_id) as gradebook:
        assert gradebook.find_assignment("small").max_score == template.max_score
        assert gradebook.students == []

    existing = tmp_path / "existing.db"
    with Gradebook(f"sqlite:///{existing}", template.course_id) as gradebook:
        gradebook.add_assignment("earlier")
        gradebook.add_student("ann")
    merge.install_assignment(f"sqlite:///{existing}", template)
    with Gradebook(f"sqlite:///{existing}", template.course_id) as gradebook:
        assert sorted(a.name for a in gradebook.assignments) == ["earlier", "small"]
        assert [s.id for s in gradebook.students] == ["ann"]
        assert gradebook.find_assignment("small").max_score == template.max_score
