"""Grading processes skip rfc3987_syntax's slow import, and notebooks still validate."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import sys
import course_utils.instructor.grading
import nbformat
nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
nbformat.validate(nb)
broken = nbformat.v4.new_notebook()
broken["cells"] = [{"cell_type": "code", "source": 1}]
try:
    nbformat.validate(broken)
except nbformat.ValidationError:
    print("invalid notebook rejected")
print("rfc3987_syntax:", sys.modules.get("rfc3987_syntax", "never imported"))
"""


def test_grading_processes_skip_the_iri_parsers_and_still_validate_notebooks():
    result = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert "invalid notebook rejected" in result.stdout
    assert "rfc3987_syntax: None" in result.stdout


def test_a_process_that_imported_jsonschema_first_is_left_alone():
    code = ("import jsonschema, sys, course_utils.instructor.grading\n"
            "print(sys.modules.get('rfc3987_syntax') is not None)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"  # jsonschema imported the real package
