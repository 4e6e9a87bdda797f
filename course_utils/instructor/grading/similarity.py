"""``course similarity``: pairs of students whose answer cells are unusually alike.

The comparison is done per answer cell (nbgrader ``solution`` cells, matched
by ``grade_id``) with the winnowing of `copydetect
<https://github.com/blingenf/copydetect>`_ (``filter_code``, ``winnow``,
``compare_files``, ``highlight_overlap``; k-grams hashed with BLAKE2 instead
of ``hash()`` so the ranking is the same in every run): Pygments tokenises the code, names
become ``V``/``F``, comments, whitespace and string contents disappear, and
the k-grams chosen by winnowing form a set, so the order of functions hardly
matters.

What everyone was given is removed first: every k-gram of the released
notebook's code (the task's stub, the tests) is dropped from each answer.

A task's similarity for a pair is the share of copied tokens in the
smaller of the two answers (copydetect's per-file similarity, the larger of
the two). Short answers to an easy task resemble each other anyway, so a
pair's **score** is the largest, over tasks, of how far that similarity is
above the median of all pairs on the same task, scaled down pro rata when
the two answers share fewer than ``FULL_EVIDENCE`` normalised characters (a
one-line answer is weak evidence): one task copied out of four ranks as high
as a whole copied notebook.

An answer cell that equals the reference solution once normalised (names,
comments, whitespace) is no evidence of copying between students: two
students who both wrote the model answer are left out of that task's
comparison (shown as ``=ref``) and it adds nothing to their score.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import itertools
import json
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

from course_utils.instructor.grading import notebook_facts as facts

__all__ = ["answer_cells", "Pair", "SimilarityResult", "compare_submissions",
           "format_ranking", "write_similarity_html", "add_arguments", "run"]

NOISE_TOKENS = 12
"""k: the length (in filtered characters) of the k-grams compared."""
GUARANTEE_TOKENS = 18
"""Every shared run at least this long is found (winnowing window = 18 - 12 + 1)."""
MIN_COVERAGE = 20
"""Answers with fewer fingerprinted characters (after removing the release) are skipped."""
FULL_EVIDENCE = 60
"""Shared normalised characters at which a task's excess counts fully (less: pro rata)."""


_source = facts.cell_source


def answer_cells(notebook: dict, strip_markers: bool = True) -> dict[str, str]:
    """The answer (nbgrader ``solution``) code cells: grade_id -> source.

    Args:
        notebook: A notebook as a JSON dict.
        strip_markers: Drop ``### BEGIN/END SOLUTION`` lines (the reference's).
    """
    cells = {}
    for cell in notebook.get("cells", []):
        meta = facts.nbgrader_meta(cell)
        if cell.get("cell_type") == "code" and meta.get("solution") and meta.get("grade_id"):
            source = _source(cell)
            if strip_markers:
                source = "\n".join(line for line in source.splitlines()
                                   if "BEGIN SOLUTION" not in line
                                   and "END SOLUTION" not in line)
            cells[str(meta["grade_id"])] = source
    return cells


def _all_code(notebook: dict) -> str:
    return "\n".join(_source(c) for c in notebook.get("cells", []) if c.get("cell_type") == "code")


@dataclass
class Pair:
    """Two students and how alike their answers are.

    Attributes:
        a: A student id. b: The other (``a < b``).
        score: Largest (or 0), over tasks, of the excess of the task's similarity over
            the task's median, scaled down when less than ``FULL_EVIDENCE``
            normalised characters are shared.
        task: The task giving the score.
        similarity: Task -> similarity in [0, 1], or None if not compared
            (``reference`` says why).
        reference: Tasks left out because both answers equal the reference.
        shared: Task -> normalised characters found in both answers.
        total: The sum of the tasks' (scaled, positive) excesses: ranks pairs
            with the same score, more copied tasks first.
        slices: Task -> (highlighted HTML of a's cell, of b's cell).
    """

    a: str
    b: str
    score: float = 0.0
    task: str = ""
    similarity: dict[str, float | None] = field(default_factory=dict)
    reference: list[str] = field(default_factory=list)
    shared: dict[str, int] = field(default_factory=dict)
    total: float = 0.0
    slices: dict[str, tuple[str, str]] = field(default_factory=dict, repr=False)


@dataclass
class SimilarityResult:
    """The ranking and what it was computed from."""

    assignment: str
    tasks: list[str]
    pairs: list[Pair]
    medians: dict[str, float]
    equal_to_reference: dict[str, list[str]]
    skipped: dict[str, list[str]]


def _stable_kgrams(text: str, k: int):
    """Hashes of every k-gram of ``text`` (copydetect's ``hashed_kgrams`` uses
    ``hash()``, which changes with PYTHONHASHSEED: the ranking would differ from
    run to run)."""
    import numpy as np

    values = [int.from_bytes(hashlib.blake2b(text[i:i + k].encode(), digest_size=8).digest(),
                             "little", signed=True) for i in range(len(text) - k + 1)]
    return np.array(values, dtype=np.int64)


def _fingerprint(code: str, boilerplate: set[int]) -> SimpleNamespace:
    """What ``copydetect.detector.compare_files`` needs of an answer (as its
    ``CodeFingerprint`` builds it), with stable hashes and the release removed."""
    from copydetect.utils import filter_code, get_token_coverage, winnow

    filtered, offsets = filter_code(code, "answer.py", "python")
    k = NOISE_TOKENS
    hashes, index = winnow(_stable_kgrams(filtered, k), GUARANTEE_TOKENS - k + 1,
                           remove_duplicates=False)
    hash_idx: dict[int, list[int]] = {}
    for value, position in zip(hashes.tolist(), index.tolist()):
        if value not in boilerplate:
            hash_idx.setdefault(value, []).append(position)
    return SimpleNamespace(k=k, filtered_code=filtered, offsets=offsets, raw_code=code,
                           hashes=set(hash_idx), hash_idx=hash_idx,
                           token_coverage=get_token_coverage(hash_idx, k, len(filtered)))


def _kgrams(code: str) -> set[int]:
    from copydetect.utils import filter_code

    filtered, _ = filter_code(code, "given.py", "python")
    return set(_stable_kgrams(filtered, NOISE_TOKENS).tolist())


def _normalised(code: str) -> str:
    from copydetect.utils import filter_code

    return filter_code(code, "answer.py", "python")[0]


def _highlight(code: str, slices) -> str:
    from copydetect.utils import highlight_overlap

    if len(slices) == 0 or slices.shape[-1] == 0:
        return html.escape(code)
    text, _ = highlight_overlap(code, slices, "<mark>", "</mark>", escape_html=True)
    return text


def compare_submissions(answers: dict[str, dict[str, str]], released: dict,
                        reference: dict[str, str], assignment: str = "") -> SimilarityResult:
    """Ranks every pair of students by how unusually alike their answers are.

    Args:
        answers: Student -> (grade_id -> answer source).
        released: The released notebook (its code is removed from answers).
        reference: grade_id -> the reference solution's code.
        assignment: The assignment id (for the report).

    Returns:
        The pairs, most similar first (ties: more copied tasks first, then by ids).
    """
    boilerplate = _kgrams(_all_code(released))
    tasks = list(answer_cells(released)) or sorted({t for a in answers.values() for t in a})
    ref_norm = {task: _normalised(code) for task, code in reference.items()}
    prints: dict[str, dict[str, object]] = {task: {} for task in tasks}
    equal: dict[str, list[str]] = {task: [] for task in tasks}
    skipped: dict[str, list[str]] = {task: [] for task in tasks}
    for student in sorted(answers):
        for task in tasks:
            code = answers[student].get(task, "")
            if task in ref_norm and _normalised(code) == ref_norm[task]:
                equal[task].append(student)
                continue
            fp = _fingerprint(code, boilerplate)
            if fp.token_coverage < MIN_COVERAGE:
                skipped[task].append(student)
                continue
            prints[task][student] = fp
    from copydetect.detector import compare_files

    pairs = {}
    raw: dict[str, dict[tuple[str, str], tuple]] = {task: {} for task in tasks}
    for a, b in itertools.combinations(sorted(answers), 2):
        pair = pairs[a, b] = Pair(a, b)
        for task in tasks:
            if a in equal[task] and b in equal[task]:
                pair.reference.append(task)
                pair.similarity[task] = None
            elif a in prints[task] and b in prints[task]:
                shared, (s1, s2), slices = compare_files(prints[task][a], prints[task][b])
                pair.similarity[task] = float(max(s1, s2))
                pair.shared[task] = int(shared)
                raw[task][a, b] = slices
            else:
                pair.similarity[task] = None
    medians = {}
    for task in tasks:
        values = [p.similarity[task] for p in pairs.values() if p.similarity[task] is not None]
        medians[task] = float(statistics.median(values)) if values else 0.0
    for pair in pairs.values():
        excess = [((pair.similarity[t] - medians[t])
                   * min(1.0, pair.shared.get(t, 0) / FULL_EVIDENCE), t) for t in tasks
                  if pair.similarity[t] is not None]
        if excess:
            best, pair.task = max(excess)
            pair.score = max(best, 0.0)
            pair.total = sum(max(value, 0.0) for value, _ in excess)
    ranked = sorted(pairs.values(), key=lambda p: (-p.score, -p.total, p.a, p.b))
    for pair in ranked[:50]:
        for task in tasks:
            similar = pair.similarity[task]
            if (pair.a, pair.b) in raw[task] and similar and similar > medians[task]:
                s_a, s_b = raw[task][pair.a, pair.b]
                pair.slices[task] = (_highlight(answers[pair.a].get(task, ""), s_a),
                                     _highlight(answers[pair.b].get(task, ""), s_b))
    return SimilarityResult(assignment, tasks, ranked, medians, equal, skipped)


def _cell(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def format_ranking(result: SimilarityResult, top: int = 15) -> str:
    """The ranking as a plain-text table (rank, pair, score, task, per-task similarity)."""
    header = ["rank", "student A", "student B", "score", "task", *result.tasks]
    lines = [header]
    for rank, pair in enumerate(result.pairs[:top], start=1):
        lines.append([str(rank), pair.a, pair.b, f"{pair.score:.2f}", pair.task or "-",
                      *("=ref" if t in pair.reference else _cell(pair.similarity.get(t))
                        for t in result.tasks)])
    lines.append(["", "median", "", "", "", *(f"{result.medians[t]:.2f}" for t in result.tasks)])
    widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip()
                     for row in lines) + "\n"


_STYLE = """body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}
th{background:#f2f2f2}td.id{text-align:left}.pair{margin-top:2em;border-top:2px solid #888}
.side{display:flex;gap:1em}.side>div{flex:1;min-width:0}
pre{background:#f8f8f8;padding:6px;overflow-x:auto;font-size:13px}mark{background:#ffd54f}
.note{max-width:60em}"""


def write_similarity_html(result: SimilarityResult, path: Path, top: int = 10) -> Path:
    """Writes the ranking and the top pairs side by side (copied parts marked)."""
    esc = html.escape
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
             f"<title>Similar submissions: {esc(result.assignment)}</title>"
             f"<style>{_STYLE}</style></head><body>",
             f"<h1>Similar submissions: {esc(result.assignment)}</h1>",
             "<p class='note'>Per task, the similarity is the share of an answer's code "
             "(after removing the released notebook's code and normalising names, comments "
             "and whitespace) found in the other answer. A pair's score is the largest excess "
             "of a task's similarity over that task's median over all pairs, scaled down "
             f"when the answers share fewer than {FULL_EVIDENCE} normalised characters. "
             "<b>Answers equal to the reference solution</b> (up to names, comments and "
             "whitespace) are not evidence of copying between students: a task where both "
             "answers equal it is shown as <code>=ref</code> and adds nothing to the score. "
             "A high score is a reason to read both notebooks, not a verdict.</p>",
             "<table id='ranking'><tr><th>rank</th><th>student A</th><th>student B</th>"
             "<th>score</th><th>task</th>"
             + "".join(f"<th>{esc(t)}</th>" for t in result.tasks) + "</tr>"]
    for rank, pair in enumerate(result.pairs[:50], start=1):
        cells = "".join(f"<td>{'=ref' if t in pair.reference else _cell(pair.similarity[t])}"
                        "</td>" for t in result.tasks)
        parts.append(f"<tr><td>{rank}</td><td class='id'>{esc(pair.a)}</td>"
                     f"<td class='id'>{esc(pair.b)}</td><td>{pair.score:.2f}</td>"
                     f"<td class='id'>{esc(pair.task)}</td>{cells}</tr>")
    parts.append("<tr><th></th><th class='id'>median</th><th></th><th></th><th></th>"
                 + "".join(f"<th>{result.medians[t]:.2f}</th>" for t in result.tasks)
                 + "</tr></table>")
    for rank, pair in enumerate(result.pairs[:top], start=1):
        parts.append(f"<div class='pair'><h2>{rank}. {esc(pair.a)} &amp; {esc(pair.b)} "
                     f"(score {pair.score:.2f})</h2>")
        for task in sorted(pair.slices, key=lambda t: -(pair.similarity[t] or 0)):
            left, right = pair.slices[task]
            parts.append(f"<h3>{esc(task)}: similarity {_cell(pair.similarity[task])} "
                         f"(median {result.medians[task]:.2f})</h3><div class='side'>"
                         f"<div><b>{esc(pair.a)}</b><pre>{left}</pre></div>"
                         f"<div><b>{esc(pair.b)}</b><pre>{right}</pre></div></div>")
        parts.append("</div>")
    notes = [f"{esc(t)}: {', '.join(map(esc, s))}" for t, s in result.equal_to_reference.items()
             if s]
    if notes:
        parts.append("<h2>Answers equal to the reference solution</h2><ul>"
                     + "".join(f"<li>{n}</li>" for n in notes) + "</ul>")
    parts.append("</body></html>")
    path = Path(path)
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def load_answers(submissions: Path, assignment: str) -> dict[str, dict[str, str]]:
    """Student -> (grade_id -> answer source) from a submissions folder or zip."""
    from course_utils.instructor.grading import ingest

    answers = {}
    for submission in ingest.find_submissions(Path(submissions), assignment):
        cells: dict[str, str] = {}
        for name, data in sorted(submission.files.items()):
            if name.endswith(".ipynb"):
                try:
                    cells.update(answer_cells(json.loads(data.decode("utf-8")), False))
                except (UnicodeDecodeError, json.JSONDecodeError):
                    continue
        answers[submission.student] = cells
    return answers


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds the ``similarity`` subcommand's arguments to ``parser``."""
    parser.add_argument("assignment", help="the assignment id (a folder in solutions/)")
    parser.add_argument("submissions", help="the submissions, as for `course grade`")
    parser.add_argument("--top", type=int, default=15, help="pairs shown (default: 15)")
    parser.add_argument("--output", default=None, metavar="FILE",
                        help="the HTML page (default: similarity-<assignment>.html)")


def run(args: argparse.Namespace, root: Path) -> int:
    """Runs ``course similarity``: prints the ranking and writes the HTML page."""
    assignment = args.assignment
    solution = root / "solutions" / assignment / f"{assignment}.ipynb"
    released = root / "exercises" / assignment / f"{assignment}.ipynb"
    for path in (solution, released):
        if not path.is_file():
            raise FileNotFoundError(f"expected {path} (run `course release {assignment}`)")
    answers = load_answers(Path(args.submissions), assignment)
    if len(answers) < 2:
        raise ValueError(f"need at least 2 submissions to compare, found {len(answers)} "
                         f"in {args.submissions}")
    result = compare_submissions(answers, json.loads(released.read_text(encoding="utf-8")),
                                 answer_cells(json.loads(solution.read_text(encoding="utf-8"))),
                                 assignment)
    print(format_ranking(result, args.top), end="")
    target = Path(args.output) if args.output else Path(f"similarity-{assignment}.html")
    write_similarity_html(result, target, top=min(args.top, 10))
    print(f"side by side: {target}")
    return 0
