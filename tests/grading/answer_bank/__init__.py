"""Answer banks: classic wrong answers and correct answers written differently.

One module per assignment, ``tests/grading/answer_bank/<assignment>.py``,
defines ``ENTRIES``, a list of :class:`Entry`::

    from tests.grading.answer_bank import right, wrong

    ENTRIES = [
        wrong("swapped_fans", "task1", '''
    def glorot_std(fan_in, fan_out):
        return (2 / fan_in) ** 0.5
    ''', points={"test_task1": 0}, why="uses fan_in only: He, not Glorot"),
        right("float32", "task1", '''...'''),
    ]

An entry's submission is the student release with every answer cell holding
the solution's code (the ``BEGIN``/``END SOLUTION`` lines removed), except the
entry's cell, which holds the entry's code. ``points`` maps test-cell grade
ids to the points the entry must get; test cells it does not name must get
full points. :func:`build_batch` writes one notebook per entry, plus
``solution`` (full marks) and ``blank`` (the release as is, 0 points), and
``tests/grading/test_answer_banks.py`` grades each assignment's batch with
``course grade`` (sandbox, repair, redaction: the production path).
"""

from __future__ import annotations

import copy
import dataclasses
import importlib
import json
import re
import textwrap
from collections.abc import Mapping
from pathlib import Path

from course_utils.instructor.grading import notebook_facts as facts
from tests.notebook_tools import REPO_ROOT

__all__ = ["Entry", "wrong", "right", "load_bank", "build_submission", "build_batch",
           "expected_points", "graded_cells", "pack_entries"]

_MARKER = re.compile(r"^\s*#+\s*(BEGIN|END) SOLUTION\s*$")


@dataclasses.dataclass(frozen=True)
class Entry:
    """One bank entry.

    Attributes:
        name: short id (becomes part of the student id).
        kind: ``"wrong"`` (a classic mistake) or ``"right"`` (a correct variant).
        cell: grade id of the answer cell it replaces (``"task2"``).
        code: the cell's new source.
        points: test-cell grade id -> expected points (others: full points).
        why: what the mistake or the variant is, in words.
    """

    name: str
    kind: str
    cell: str
    code: str
    points: Mapping[str, float] = dataclasses.field(default_factory=dict)
    why: str = ""

    @property
    def student(self) -> str:
        return f"{self.kind}-{self.name}"


def wrong(name: str, cell: str, code: str, *, points: Mapping[str, float],
          why: str = "") -> Entry:
    """A classic mistake: ``points`` must name the test cell(s) that lose points."""
    if not points:
        raise ValueError(f"wrong answer {name!r}: say which test cell loses points")
    return Entry(name, "wrong", cell, textwrap.dedent(code).strip("\n") + "\n", dict(points), why)


def right(name: str, cell: str, code: str, *, why: str = "") -> Entry:
    """A correct answer written differently: it must earn full marks."""
    return Entry(name, "right", cell, textwrap.dedent(code).strip("\n") + "\n", {}, why)


def load_bank(assignment: str) -> list[Entry]:
    """The ``ENTRIES`` of ``tests/grading/answer_bank/<assignment>.py`` ([] if none yet).

    ``tests/grading/test_answer_banks.py`` fails separately for a missing bank.
    """
    if not (Path(__file__).parent / f"{assignment}.py").is_file():
        return []
    module = importlib.import_module(f"tests.grading.answer_bank.{assignment}")
    entries = list(module.ENTRIES)
    names = [entry.student for entry in entries]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"{assignment}: duplicate bank entries {duplicates}")
    return entries


def _notebook(folder: str, assignment: str) -> dict:
    path = REPO_ROOT / folder / assignment / f"{assignment}.ipynb"
    return json.loads(path.read_text(encoding="utf-8"))


_source = facts.cell_source
_nbgrader = facts.nbgrader_meta


def graded_cells(assignment: str) -> dict[str, float]:
    """Test-cell grade id -> points, from the source notebook."""
    return dict(facts.graded_cells(_notebook("solutions", assignment)))


def _solution_answers(assignment: str) -> dict[str, str]:
    answers = {}
    for cell in _notebook("solutions", assignment)["cells"]:
        meta = _nbgrader(cell)
        if meta.get("solution") and cell["cell_type"] == "code":
            lines = [line for line in _source(cell).splitlines() if not _MARKER.match(line)]
            answers[meta["grade_id"]] = "\n".join(lines).strip("\n") + "\n"
    return answers


def build_submission(assignment: str, entry: Entry | list[Entry] | None = None) -> dict:
    """The release with the solution's answers, and the entries' cells replaced."""
    notebook = copy.deepcopy(_notebook("exercises", assignment))
    answers = _solution_answers(assignment)
    entries = [] if entry is None else [entry] if isinstance(entry, Entry) else list(entry)
    by_cell = {}
    for item in entries:
        if item.cell not in answers:
            raise ValueError(f"{assignment}: entry {item.name!r} names cell {item.cell!r}; "
                             f"the answer cells are {sorted(answers)}")
        if item.cell in by_cell:
            raise ValueError(f"{assignment}: entries {by_cell[item.cell].name!r} and "
                             f"{item.name!r} both replace {item.cell!r}")
        by_cell[item.cell] = item
    for cell in notebook["cells"]:
        grade_id = _nbgrader(cell).get("grade_id")
        if grade_id in answers:
            cell["source"] = by_cell[grade_id].code if grade_id in by_cell \
                else answers[grade_id]
    return notebook


def _watched(assignment: str, entry: Entry) -> set[str]:
    """The test cells an entry's outcome is read from."""
    if entry.kind == "wrong":
        return set(entry.points)
    own = f"test_{entry.cell}"
    return {own} if own in graded_cells(assignment) else set(graded_cells(assignment))


def pack_entries(assignment: str, entries: list[Entry]) -> list[list[Entry]]:
    """Groups entries into as few submissions as can be read apart.

    A class of submissions costs a kernel each, so entries share a notebook
    when their outcomes cannot mix: entries of one kind only (a wrong answer
    never sits beside a right one), each answer cell replaced at most once,
    and the test cells each entry is judged by (a wrong entry's stated test
    cells, a right entry's own task) disjoint. A wrong answer's effect on a
    later task is part of its stated points, so the packed expectation is the
    union of the entries' expectations.
    """
    packs: list[tuple[list[Entry], set[str], set[str]]] = []
    for entry in entries:
        watched = _watched(assignment, entry)
        for members, cells, tests in packs:
            if members[0].kind == entry.kind and entry.cell not in cells \
                    and not watched & tests:
                members.append(entry)
                cells.add(entry.cell)
                tests.update(watched)
                break
        else:
            packs.append(([entry], {entry.cell}, set(watched)))
    return [members for members, _, _ in packs]


def expected_points(assignment: str, entry: Entry | list[Entry] | None) -> dict[str, float]:
    """Test-cell grade id -> the points the entry (or a pack of entries) must get."""
    full = graded_cells(assignment)
    entries = [] if entry is None else [entry] if isinstance(entry, Entry) else list(entry)
    expected = dict(full)
    for item in entries:
        unknown = sorted(set(item.points) - set(full))
        if unknown:
            raise ValueError(f"{assignment}: entry {item.name!r} names unknown test cells "
                             f"{unknown}; the test cells are {sorted(full)}")
        expected.update({name: float(points) for name, points in item.points.items()})
    return expected


def build_batch(assignment: str, folder: Path,
                pack: bool = True) -> dict[str, tuple[dict[str, float], list[Entry]]]:
    """Writes a notebook for the solution, the blank release and the bank's entries.

    Args:
        assignment: the assignment id.
        folder: where ``<student>.ipynb`` files go.
        pack: put entries whose outcomes cannot mix into one notebook
            (:func:`pack_entries`), so the bank costs fewer kernels.

    Returns:
        Student id -> (expected points per test cell, the entries it holds).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    batch = {"solution": (build_submission(assignment), expected_points(assignment, None), []),
             "blank": (_notebook("exercises", assignment),
                       {name: 0.0 for name in graded_cells(assignment)}, [])}
    entries = load_bank(assignment)
    groups = pack_entries(assignment, entries) if pack else [[entry] for entry in entries]
    for members in groups:
        student = members[0].student if len(members) == 1 else \
            f"{members[0].kind}-pack-" + "-".join(member.name for member in members)[:80]
        batch[student] = (build_submission(assignment, members),
                          expected_points(assignment, members), members)
    expected = {}
    for student, (notebook, points, members) in batch.items():
        (folder / f"{student}.ipynb").write_text(json.dumps(notebook, indent=1),
                                                  encoding="utf-8")
        expected[student] = (points, members)
    return expected
