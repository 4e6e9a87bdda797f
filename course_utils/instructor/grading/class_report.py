"""The class report: ``grading-report-<assignment>.html``, the class at a glance.

One self-contained HTML file (figures as base64 PNG, a few lines of inline
JavaScript to sort the table, no external script, style sheet or font), made
from the JSON report of ``course grade`` and the autograded notebooks:

* the score distribution;
* per task (graded cell), the share of students with full, partial and zero points;
* per test cell, the most frequent failure reasons: the error type and the
  line of the test that failed (or, for a hidden test, its message), with
  counts and example students;
* the grading statuses (timed out, kernel died, unreadable, ...) with counts;
* time per submission;
* the static audit's flags;
* a sortable per-student table with per-task points (the numbers of ``grades.csv``).
"""

from __future__ import annotations

import base64
import html
import io
import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from course_utils.instructor.grading import notebook_facts as facts

__all__ = ["Failure", "failure_reasons", "collect_failures", "build_html",
           "write_class_report"]

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_ARROW = re.compile(r"^-+>\s*(\d+\s+)?(.*)$")


@dataclass
class Failure:
    """A group of identical failures of one test cell.

    Attributes:
        cell: The test cell's grade id.
        error: The exception type (``AssertionError``, ``NameError``, ...).
        check: The test line that failed (empty if the traceback has none).
        message: The exception message of the first student in the group.
        students: Who failed this way.
    """

    cell: str
    error: str
    check: str
    message: str
    students: list[str] = field(default_factory=list)


_MESSAGE = re.compile(r"""^assert\b.*,\s*f?(["'])(.*)\1\s*$""")
_NUMBER = re.compile(r"-?\d+(\.\d*)?([eE][-+]?\d+)?")


def _failed_check(source: str, error: str, message: str) -> str:
    """The visible test line whose assertion message starts like ``message``.

    The autograded copies keep only ``ename: evalue`` of a test cell's error
    (the traceback would quote hidden tests), so the failed ``assert`` is found
    by its message; a failed hidden test's line is not in the copy: empty.
    """
    if error != "AssertionError" or not message:
        return ""
    for line in source.splitlines():
        match = _MESSAGE.match(line.strip())
        if match:
            prefix = match.group(2).split("{")[0]
            if prefix.strip() and message.startswith(prefix):
                return line.strip()
    return ""


def _mask(message: str) -> str:
    """A message with numbers and array contents masked, for grouping."""
    return _NUMBER.sub("#", re.sub(r"\[[^\]]*\]", "[...]", message))


def failure_reasons(notebook: dict) -> dict[str, tuple[str, str, str]]:
    """Graded cell -> (error type, failed test line, message) of each failed cell.

    The failed line is the one IPython's traceback marks with an arrow when
    the traceback is there, else the visible ``assert`` whose message the
    error carries (see :func:`_failed_check`), else empty.
    """
    reasons = {}
    for cell in notebook.get("cells", []):
        meta = facts.nbgrader_meta(cell)
        if not meta.get("grade") or cell.get("cell_type") != "code":
            continue
        source = facts.cell_source(cell)
        for output in cell.get("outputs", []):
            if output.get("output_type") != "error":
                continue
            error = str(output.get("ename", "Error"))
            message = " ".join(_ANSI.sub("", str(output.get("evalue", ""))).split())
            check = ""
            for line in output.get("traceback", []):
                for part in _ANSI.sub("", line).splitlines():
                    match = _ARROW.match(part.strip())
                    if match and not check:
                        check = " ".join(match.group(2).split())
            check = check or _failed_check(source, error, message)
            reasons[str(meta.get("grade_id"))] = (error, check, message[:200])
            break
    return reasons


def collect_failures(autograded: Path, assignment: str,
                     students: list[str]) -> list[Failure]:
    """Groups the failed test cells of ``students``' autograded notebooks.

    Args:
        autograded: The course's ``autograded/`` folder.
        assignment: The assignment id.
        students: The students to read.

    Returns:
        Groups by (cell, error type, failed line, or the message with numbers
        masked when the line is unknown), largest first.
    """
    groups: dict[tuple[str, str, str], Failure] = {}
    for student in sorted(students):
        folder = Path(autograded) / student / assignment
        for path in sorted(folder.glob("*.ipynb")) if folder.is_dir() else []:
            try:
                notebook = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            for cell, (error, check, message) in failure_reasons(notebook).items():
                group = groups.setdefault((cell, error, check or _mask(message)),
                                          Failure(cell, error, check, message))
                group.students.append(student)
    return sorted(groups.values(), key=lambda g: (-len(g.students), g.cell, g.error, g.check))


def _points(value: float) -> str:
    return f"{float(value):g}"


def _integer_ticks(axis) -> None:
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True))


def _figure_png(draw, width: float = 6.0, height: float = 2.8) -> str:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100)
    axes = figure.add_subplot()
    draw(axes)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _img(data: str, alt: str) -> str:
    return f"<img alt='{html.escape(alt)}' src='data:image/png;base64,{data}'>"


def _score_figure(scores: list[float], max_score: float) -> str:
    def draw(axes):
        bins = min(20, max(5, int(max_score) + 1)) if max_score > 0 else 5
        axes.hist(scores, bins=bins, range=(0, max(max_score, 1e-9)), color="#4878a8",
                  edgecolor="white")
        axes.set_xlabel(f"score (out of {_points(max_score)})")
        axes.set_ylabel("students")
        _integer_ticks(axes.yaxis)
        axes.set_title("Score distribution")
    return _figure_png(draw)


def _task_figure(shares: list[tuple[str, float, float, float]]) -> str:
    def draw(axes):
        names = [s[0] for s in shares][::-1]
        full, partial, zero = ([s[i] for s in shares][::-1] for i in (1, 2, 3))
        axes.barh(names, full, color="#4c9a2a", label="full")
        axes.barh(names, partial, left=full, color="#e8b323", label="partial")
        axes.barh(names, zero, left=[f + p for f, p in zip(full, partial)], color="#c0392b",
                  label="zero")
        axes.set_xlim(0, 100)
        axes.set_xlabel("% of students: full, partial or zero points per task")
        axes.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncols=3, fontsize=8,
                    frameon=False)
    return _figure_png(draw, height=1.2 + 0.45 * len(shares))


def _time_figure(seconds: list[float]) -> str:
    def draw(axes):
        axes.hist(seconds, bins=min(20, max(5, len(seconds) // 2)), color="#7a5195",
                  edgecolor="white")
        axes.set_xlabel("seconds per submission (wall time)")
        axes.set_ylabel("submissions")
        _integer_ticks(axes.yaxis)
        axes.set_title("Time per submission")
    return _figure_png(draw)


_STYLE = """body{font-family:system-ui,sans-serif;margin:1.5em;color:#222;max-width:75em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:2px 8px}
th{background:#f2f2f2}td.n{text-align:right}#students th{cursor:pointer}
code{background:#f4f4f4;padding:0 3px}.figs img{max-width:48%;vertical-align:top}
.small{color:#555;font-size:90%}"""

_SORT_JS = """document.querySelectorAll('#students th').forEach(function(th,i){
th.addEventListener('click',function(){var tb=document.querySelector('#students tbody');
var rows=Array.from(tb.rows),asc=th.dataset.asc!=='1';th.dataset.asc=asc?'1':'0';
rows.sort(function(a,b){var x=a.cells[i].dataset.v||a.cells[i].textContent,
y=b.cells[i].dataset.v||b.cells[i].textContent,p=parseFloat(x),q=parseFloat(y);
var c=(!isNaN(p)&&!isNaN(q))?p-q:x.localeCompare(y);return asc?c:-c;});
rows.forEach(function(r){tb.appendChild(r);});});});"""


def build_html(report: dict, failures: list[Failure], seconds: dict[str, float]) -> str:
    """The report page as one HTML string.

    Args:
        report: The JSON report of ``course grade`` (``assignment``, ``tasks``, ``rows``).
        failures: The grouped failures (see :func:`collect_failures`).
        seconds: Student -> wall seconds spent grading (graded in this run).
    """
    esc = html.escape
    assignment = str(report.get("assignment", ""))
    tasks = [(str(name), float(points)) for name, points in report.get("tasks", [])]
    rows = list(report.get("rows", []))
    scores = [float(row["score"]) for row in rows]
    max_score = max([float(row["max_score"]) for row in rows] or [0.0])
    out = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
           f"<title>Class report: {esc(assignment)}</title><style>{_STYLE}</style></head><body>",
           f"<h1>Class report: {esc(assignment)}</h1>"]
    if scores:
        mean = sum(scores) / len(scores)
        ordered = sorted(scores)
        median = (ordered[(len(ordered) - 1) // 2] + ordered[len(ordered) // 2]) / 2
        out.append(f"<p id='summary'>{len(rows)} students; mean score {mean:.2f}, median "
                   f"{median:g} out of {_points(max_score)}.</p>")
    shares = []
    for name, points in tasks:
        values = [float(row.get("tasks", {}).get(name, 0.0)) for row in rows]
        n = max(len(values), 1)
        full = sum(v >= points > 0 for v in values)
        zero = sum(v <= 0 for v in values)
        shares.append((name, 100 * full / n, 100 * (len(values) - full - zero) / n,
                       100 * zero / n))
    figures = []
    if rows:
        figures.append(_img(_score_figure(scores, max_score), "score distribution"))
    if tasks and rows:
        figures.append(_img(_task_figure(shares), "full, partial and zero points per task"))
    out.append("<div class='figs'>" + "".join(figures) + "</div>")
    out.append("<h2>Tasks</h2><table id='tasks'><tr><th>task</th><th>points</th>"
               "<th>full</th><th>partial</th><th>zero</th><th>mean</th></tr>")
    for (name, points), (_, full, partial, zero) in zip(tasks, shares):
        values = [float(row.get("tasks", {}).get(name, 0.0)) for row in rows]
        mean = sum(values) / len(values) if values else 0.0
        out.append(f"<tr><td>{esc(name)}</td><td class='n'>{_points(points)}</td>"
                   f"<td class='n'>{full:.0f}%</td><td class='n'>{partial:.0f}%</td>"
                   f"<td class='n'>{zero:.0f}%</td><td class='n'>{mean:.2f}</td></tr>")
    out.append("</table>")
    out.append("<h2>Why tests failed</h2>")
    if failures:
        out.append("<table id='failures'><tr><th>test cell</th><th>error</th>"
                   "<th>failed check</th><th>students</th><th>examples</th></tr>")
        for group in failures[:40]:
            examples = ", ".join(group.students[:3]) + (", ..." if len(group.students) > 3
                                                        else "")
            out.append(f"<tr><td>{esc(group.cell)}</td><td>{esc(group.error)}"
                       f"<div class='small'>{esc(group.message)}</div></td>"
                       + (f"<td><code>{esc(group.check)}</code></td>" if group.check
                          else "<td class='small'>(a hidden test, or an assert with no "
                          "message)</td>" if group.error == "AssertionError"
                          else "<td class='small'>(raised by the code under test)</td>")
                       + f"<td class='n'>{len(group.students)}</td><td>{esc(examples)}</td></tr>")
        out.append("</table>")
    else:
        out.append("<p>No test cell raised an error.</p>")
    statuses = Counter(str(row.get("status", "")) for row in rows)
    out.append("<h2>Statuses</h2><table id='statuses'><tr><th>status</th><th>students</th>"
               "<th>examples</th></tr>")
    by_status = defaultdict(list)
    for row in rows:
        by_status[str(row.get("status", ""))].append(str(row["student"]))
    for status, count in statuses.most_common():
        out.append(f"<tr><td>{esc(status)}</td><td class='n'>{count}</td>"
                   f"<td>{esc(', '.join(by_status[status][:5]))}</td></tr>")
    out.append("</table>")
    times = [seconds[str(row["student"])] for row in rows if str(row["student"]) in seconds]
    out.append("<h2>Time per submission</h2>")
    if times:
        out.append(f"<p>{len(times)} graded in this run: median "
                   f"{sorted(times)[len(times) // 2]:.1f} s, slowest {max(times):.1f} s "
                   f"(wall time; submissions graded at once share the cores).</p>")
        out.append("<div class='figs'>" + _img(_time_figure(times), "time per submission")
                   + "</div>")
    else:
        out.append("<p>No submission was graded in this run (all unchanged).</p>")
    flagged = [row for row in rows if row.get("audit")]
    out.append(f"<h2>Audit flags</h2><p>{len(flagged)} submissions flagged by the static "
               "audit (the score is unchanged: read them by hand).</p>")
    if flagged:
        out.append("<table id='audit'><tr><th>student</th><th>findings</th></tr>")
        out.extend(f"<tr><td>{esc(str(row['student']))}</td><td>{esc(str(row['audit']))}"
                   "</td></tr>" for row in flagged)
        out.append("</table>")
    out.append("<h2>Students</h2><p class='small'>Click a column header to sort.</p>"
               "<table id='students'><thead><tr><th>student</th><th>score</th>"
               "<th>max_score</th><th>status</th>"
               + "".join(f"<th>{esc(name)}</th>" for name, _ in tasks)
               + "<th>seconds</th><th>message</th></tr></thead><tbody>")
    for row in rows:
        student = str(row["student"])
        task_cells = "".join(f"<td class='n'>{_points(row.get('tasks', {}).get(name, 0.0))}</td>"
                             for name, _ in tasks)
        spent = f"{seconds[student]:.1f}" if student in seconds else ""
        out.append(f"<tr><td>{esc(student)}</td><td class='n'>{_points(row['score'])}</td>"
                   f"<td class='n'>{_points(row['max_score'])}</td>"
                   f"<td>{esc(str(row.get('status', '')))}</td>{task_cells}"
                   f"<td class='n'>{spent}</td>"
                   f"<td class='small'>{esc(str(row.get('message', ''))[:160])}</td></tr>")
    out.append(f"</tbody></table><script>{_SORT_JS}</script></body></html>")
    return "\n".join(out)


def write_class_report(output: Path, assignment: str, autograded: Path,
                       seconds: dict[str, float] | None = None) -> Path:
    """Writes ``grading-report-<assignment>.html`` next to the JSON report.

    Args:
        output: The folder holding ``grading-report-<assignment>.json``.
        assignment: The assignment id.
        autograded: The course's ``autograded/`` folder (failure reasons).
        seconds: Student -> wall seconds, for the submissions graded in this run.

    Returns:
        The HTML file's path.
    """
    output = Path(output)
    report = json.loads((output / f"grading-report-{assignment}.json").read_text("utf-8"))
    students = [str(row["student"]) for row in report.get("rows", [])]
    failures = collect_failures(Path(autograded), assignment, students)
    path = output / f"grading-report-{assignment}.html"
    path.write_text(build_html(report, failures, dict(seconds or {})), encoding="utf-8")
    return path
