"""The public API: every exported name resolves, and imports stay light."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import course_utils

PACKAGE = Path(course_utils.__file__).parent


@pytest.mark.parametrize("module_name", sorted(course_utils._PUBLIC))
def test_module_all_matches_public_table(module_name):
    path = PACKAGE / (module_name.replace(".", "/") + ".py")
    if not path.exists():
        assert course_utils._PUBLIC[module_name] == (), f"{module_name}.py is missing"
        return
    module = importlib.import_module(f"course_utils.{module_name}")
    assert tuple(module.__all__) == course_utils._PUBLIC[module_name], (
        f"course_utils/__init__.py lists {course_utils._PUBLIC[module_name]} for "
        f"{module_name}, but its __all__ is {tuple(module.__all__)}")
    for name in module.__all__:
        assert getattr(course_utils, name) is getattr(module, name)


def test_names_are_unique_across_modules():
    names = [n for names in course_utils._PUBLIC.values() for n in names]
    assert len(names) == len(set(names))


def test_unknown_name_raises_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        course_utils.nope  # noqa: B018


def test_import_is_lazy_and_student_code_never_imports_grading():
    code = ("import sys, course_utils\n"
            "assert 'tensorflow' not in sys.modules, 'import course_utils imported TF'\n"
            "from course_utils import load_fashion_mnist, CLASS_NAMES\n"
            "assert 'tensorflow' not in sys.modules\n"
            "for name in course_utils.__all__: getattr(course_utils, name)\n"
            "assert not [m for m in sys.modules\n"
            "            if m.startswith('course_utils.instructor.grading')]\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(("." * node.level) + node.module)
    return found


def test_grading_code_knows_no_chapter():
    chapter_modules = set(course_utils._PUBLIC) - {"core.data", "core.plotting"}
    for path in (PACKAGE / "instructor" / "grading").rglob("*.py"):
        imported = _imports(path)
        bad = [m for m in imported for c in chapter_modules
               if m.endswith(f"course_utils.{c}") or m == f"...{c}"
               or m.startswith(("course_utils.ch", "...ch"))]
        assert not bad, f"{path.name} imports chapter modules {bad}"


def test_modules_stay_small():
    # CONTRIBUTING: no module in the package over 400 lines.
    paths = sorted(PACKAGE.rglob("*.py"))
    assert len(paths) > 40, "the package's modules were not found"
    too_long = {str(p.relative_to(PACKAGE)): n for p in paths
                if (n := len(p.read_text().splitlines())) > 400}
    assert not too_long, f"modules over 400 lines, split them: {too_long}"


def test_every_chapter_has_its_subpackage():
    # One subpackage per chapter, named by the chapter's id (the solutions' folders).
    chapters = sorted(p.name for p in (PACKAGE.parent / "solutions").iterdir() if p.is_dir())
    assert len(chapters) == 10
    for chapter in chapters:
        assert (PACKAGE / chapter / "__init__.py").is_file(), f"course_utils/{chapter}/ missing"
    # ...and no chapter module is left at the top level.
    top = sorted(p.stem for p in PACKAGE.glob("*.py"))
    assert top == ["__init__", "checks"], top
