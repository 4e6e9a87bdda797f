"""The static audit: each rule fires on a minimal example, honest code is clean."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from course_utils.instructor.grading.audit import Finding, audit_notebook
from tests.grading.small_assignment import source_notebook, with_answer

REPO_ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = sorted(REPO_ROOT.glob("solutions/*/*.ipynb"))


def _answer(code: str) -> dict:
    """The small assignment with ``code`` as the answer of task 1."""
    return with_answer(source_notebook(), 1, code)


def _rules(code: str) -> set[str]:
    return {finding.rule for finding in audit_notebook(_answer(code))}


CASES = {
    "import socket\ns = socket.socket()": "import-socket",
    "from sqlite3 import connect\nconnect('gradebook.db')": "import-sqlite3",
    "import subprocess as sp\nsp.run(['ls'])": "import-subprocess",
    "import ctypes": "import-ctypes",
    "import signal": "import-signal",
    "import os\nos._exit(0)": "process-control",
    "import os\nos.kill(os.getppid(), 9)": "process-control",
    "from os import _exit": "process-control",
    "import numpy as np\nnp.testing.assert_allclose = lambda *a, **k: None": "patch-testing",
    "import numpy.testing as npt\nnpt.assert_array_equal = print": "patch-testing",
    "from numpy import testing\nsetattr(testing, 'assert_allclose', print)": "patch-testing",
    "import builtins\nbuiltins.type = lambda x: float": "patch-builtins",
    "__builtins__.isinstance = lambda *a: True": "patch-builtins",
    "globals()['square'] = abs": "patch-builtins",
    "import course_utils.checks as c\nc.check_array = print": "patch-checks",
    "import numpy as np\nnp.all = lambda *a, **k: True": "patch-module",
    "class Any:\n    def __eq__(self, other):\n        return True": "override-equality",
    "class T:\n    def __bool__(self):\n        return True": "override-equality",
    "class H:\n    __hash__ = None": "override-equality",
    "import sys\nsys.modules['numpy'] = None": "sys-modules",
    "import importlib, numpy\nimportlib.reload(numpy)": "reload",
    "import sys\nf = sys._getframe(1)": "introspection",
    "exec('x = 1')": "dynamic-code",
    "__import__('so' + 'cket')": "dynamic-code",
    "print(open('/etc/passwd').read())": "path-outside",
    "print(open('../../source/small/small.ipynb').read())": "path-outside",
    "path = 'gradebook.db'": "grading-files",
    "p = '/work/main/solutions'": "grading-files",
    "x = 1 +* 2\nimport socket": "import-socket",  # does not parse: text fallback
    "%time import socket": "import-socket",
    "!ls ..\nimport os\nos.system('ls')": "process-control",
    "!cat /etc/passwd": "shell",
    "%%bash\nls /": "shell",
}


@pytest.mark.parametrize("code,rule", CASES.items(), ids=list(CASES.values()))
def test_rule_fires(code: str, rule: str) -> None:
    assert rule in _rules(code), f"{rule} not found in {audit_notebook(_answer(code))}"


def test_finding_names_cell_and_line() -> None:
    findings = audit_notebook(_answer("x = 1\nimport socket"))
    assert findings == [Finding("import-socket", "task1", 2,
                                "imports `socket`, which an answer never needs")]
    assert str(findings[0]).startswith("import-socket (task1, line 2): ")


def test_honest_answers_are_clean() -> None:
    honest = [
        "def square(x):\n    return np.asarray(x, dtype=np.float64) ** 2",
        "import numpy as np\nimport math\nfrom collections import Counter\n"
        "def square(x):\n    y = np.square(np.asarray(x, float))\n    assert y.shape\n    return y",
        "class Model:\n    def __init__(self):\n        self.w = 1.0\n    def __call__(self, x):\n"
        "        return x * self.w\nmodel = Model()\nmodel.w = 2.0\n"
        "def square(x):\n    return np.asarray(x, float) ** 2",
        "import os\nprint(os.path.join('a', 'b'), os.getcwd())\n"
        "with open('results.txt', 'w') as f:\n    f.write('ok')",
    ]
    for code in honest:
        assert audit_notebook(_answer(code)) == [], code


@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.parent.name for p in SOLUTIONS])
def test_course_solutions_have_no_finding(path: Path) -> None:
    notebook = json.loads(path.read_text(encoding="utf-8"))
    assert audit_notebook(notebook) == []
    assert audit_notebook(notebook, reference=notebook) == []


def test_course_has_solutions() -> None:
    assert len(SOLUTIONS) >= 5


def test_locked_cells_are_read_when_they_differ_from_the_reference() -> None:
    source = source_notebook()
    tampered = json.loads(json.dumps(source))
    for cell in tampered["cells"]:
        if cell["metadata"]["nbgrader"]["grade_id"] == "test_task1":
            cell["source"] = "import socket"
    # Without a reference, locked test cells are skipped (nbgrader restores them).
    assert audit_notebook(tampered) == []
    assert [f.rule for f in audit_notebook(tampered, reference=source)] == ["import-socket"]


@pytest.mark.parametrize("bad", [None, [], {"cells": "x"}, {"cells": [None, 3, {}]},
                                 {"cells": [{"cell_type": "code", "source": 5}]}])
def test_malformed_notebooks_give_no_error(bad: object) -> None:
    assert audit_notebook(bad) == []  # type: ignore[arg-type]
