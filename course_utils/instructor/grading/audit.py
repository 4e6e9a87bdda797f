"""Static audit of a submission: flags code that tries to fool or escape grading.

The audit never changes a score. It reads the code cells of a submission
(with :mod:`ast` where the code parses, with regular expressions where it
does not) and returns findings that the grading report shows next to the
score, so an instructor can look at the submission by hand.

Rules (``Finding.rule``):

==================  =========================================================
``import-<module>``  imports a module a course answer never needs: ``socket``,
                     ``sqlite3``, ``subprocess``, ``ctypes``, ``signal``, ...
``process-control``  ``os._exit``, ``os.kill``, ``os.fork``, ``os.system``, ...
``patch-testing``    assigns to an attribute of ``numpy.testing``
``patch-builtins``   assigns to ``builtins``/``__builtins__`` or ``globals()``
``patch-checks``     assigns to an attribute of ``course_utils.checks``
``patch-module``     assigns to an attribute of any other imported module
``override-equality`` a class defines ``__eq__``, ``__ne__``, ``__bool__``,
                     ``__hash__``, ``__array_ufunc__`` or ``__instancecheck__``
``sys-modules``      reads or changes ``sys.modules``
``reload``           ``importlib.reload``
``introspection``    frames or the garbage collector (``sys._getframe``, ...)
``dynamic-code``     ``exec``, ``eval``, ``compile``, ``__import__``
``shell``            ``!command``, ``%%bash``, ``%run`` and similar magics
``path-outside``     opens an absolute path or one with ``..``
``grading-files``    names ``gradebook``, ``solutions``, ``.nbgrader``, ...
==================  =========================================================
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from course_utils.instructor.grading import notebook_facts as facts

__all__ = ["Finding", "audit_notebook", "audit_source"]

SUSPICIOUS_MODULES = frozenset({
    "socket", "sqlite3", "subprocess", "ctypes", "signal", "pty", "resource",
    "http", "urllib", "requests", "ftplib", "smtplib", "telnetlib", "asyncio.subprocess",
    "multiprocessing", "threading", "_thread", "gc", "inspect", "importlib", "pickle",
    "marshal", "shutil", "glob", "builtins",
})
"""Top-level modules whose import is flagged (``import-<name>``)."""

_PROCESS_CALLS = frozenset({
    "_exit", "abort", "kill", "killpg", "fork", "forkpty", "system", "popen",
    "execv", "execve", "execl", "execle", "execlp", "execlpe", "execvp", "execvpe",
    "spawnl", "spawnle", "spawnlp", "spawnlpe", "spawnv", "spawnve", "spawnvp",
    "spawnvpe", "posix_spawn", "posix_spawnp", "setsid", "setpgid", "chroot",
    "unlink", "remove", "rmdir", "symlink", "link", "chmod", "chown", "rename",
    "replace", "removedirs", "walk", "scandir", "listdir",
})
_EQUALITY_DUNDERS = frozenset({
    "__eq__", "__ne__", "__bool__", "__hash__", "__array_ufunc__",
    "__array_function__", "__instancecheck__", "__subclasscheck__",
})
_INTROSPECTION = frozenset({
    "_getframe", "currentframe", "stack", "getouterframes", "get_objects",
    "get_referrers", "settrace", "setprofile", "f_back", "f_globals", "f_locals",
    "gi_frame", "tb_frame",
})
_DYNAMIC = frozenset({"exec", "eval", "compile", "__import__"})
_GRADING_WORDS = re.compile(
    r"gradebook|solutions|\.nbgrader|nbgrader_config|autograded|submitted|"
    r"release|source/|feedback", re.IGNORECASE)


@dataclass(frozen=True)
class Finding:
    """One suspicious construct in a submission.

    Attributes:
        rule: Short stable rule id, e.g. ``"import-socket"``, ``"patch-testing"``.
        cell: The nbgrader ``grade_id`` of the cell, or ``"cell-<index>"`` for
            a cell without one.
        line: 1-based line number inside the cell's source.
        message: One-sentence explanation for the instructor.
    """

    rule: str
    cell: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.rule} ({self.cell}, line {self.line}): {self.message}"


def _dotted(node: ast.AST) -> str | None:
    """``a.b.c`` for a Name/Attribute chain, else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
            and node.func.id in ("globals", "vars", "locals"):
        parts.append(node.func.id + "()")
        return ".".join(reversed(parts))
    return None


class _Visitor(ast.NodeVisitor):
    """Collects (rule, line, message) of one cell's syntax tree."""

    def __init__(self, aliases: dict[str, str]) -> None:
        self.aliases = aliases  # local name -> module path, shared across cells
        self.found: list[tuple[str, int, str]] = []

    def add(self, rule: str, node: ast.AST, message: str) -> None:
        self.found.append((rule, getattr(node, "lineno", 1), message))

    def resolve(self, dotted: str) -> str:
        head, _, rest = dotted.partition(".")
        base = self.aliases.get(head, head)
        return f"{base}.{rest}" if rest else base

    def _module_import(self, node: ast.AST, module: str) -> None:
        top = module.split(".")[0]
        if top in SUSPICIOUS_MODULES or module in SUSPICIOUS_MODULES:
            self.add(f"import-{top}", node, f"imports `{module}`, which an answer never needs")

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._module_import(node, alias.name)
            if alias.asname:
                self.aliases[alias.asname] = alias.name
            else:
                self.aliases[alias.name.split(".")[0]] = alias.name.split(".")[0]
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        self._module_import(node, module)
        for alias in node.names:
            full = f"{module}.{alias.name}"
            self.aliases[alias.asname or alias.name] = full
            if module == "os" and alias.name in _PROCESS_CALLS:
                self.add("process-control", node, f"imports `os.{alias.name}`")
            if full in ("sys.modules", "importlib.reload"):
                self.add("sys-modules" if alias.name == "modules" else "reload", node,
                         f"imports `{full}`")
        self.generic_visit(node)

    def _check_target(self, target: ast.AST, node: ast.AST) -> None:
        if isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self._check_target(element, node)
            return
        if isinstance(target, ast.Subscript):
            dotted = _dotted(target.value)
            if dotted and (dotted.startswith(("globals()", "vars()", "locals()"))
                           or self.resolve(dotted) in ("builtins", "__builtins__")
                           or self.resolve(dotted).endswith("__dict__")):
                self.add("patch-builtins", node, f"writes into `{dotted}[...]`")
            return
        if isinstance(target, ast.Attribute):
            dotted = _dotted(target.value)
            if dotted:
                self._patched(self.resolve(dotted), f"{dotted}.{target.attr}", node)

    def _patched(self, module: str, shown: str, node: ast.AST) -> None:
        head = module.split(".")[0]
        if module.startswith("numpy.testing") or module == "numpy.testing":
            self.add("patch-testing", node, f"replaces `{shown}` (numpy.testing)")
        elif head in ("builtins", "__builtins__"):
            self.add("patch-builtins", node, f"replaces the builtin `{shown}`")
        elif module.startswith("course_utils"):
            self.add("patch-checks", node, f"replaces `{shown}` of the course's checks")
        elif head in set(self.aliases.values()) | {v.split(".")[0] for v in
                                                  self.aliases.values()} \
                and head != "self":
            self.add("patch-module", node, f"replaces `{shown}` of module `{module}`")

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self._check_target(target, node)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self._check_target(node.target, node)
        self.generic_visit(node)

    def visit_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            self._check_target(target, node)
        self.generic_visit(node)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for item in node.body:
            names = []
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                names = [item.name]
            elif isinstance(item, ast.Assign):
                names = [t.id for t in item.targets if isinstance(t, ast.Name)]
            for name in names:
                if name in _EQUALITY_DUNDERS or name == "__class__":
                    self.add("override-equality", item,
                             f"class `{node.name}` defines `{name}`: an object can "
                             f"compare equal to anything")
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        dotted = _dotted(node)
        resolved = self.resolve(dotted) if dotted else ""
        if resolved == "sys.modules" or resolved.startswith("sys.modules."):
            self.add("sys-modules", node, "uses `sys.modules`")
        elif resolved == "importlib.reload":
            self.add("reload", node, "reloads a module")
        elif node.attr in _INTROSPECTION:
            self.add("introspection", node, f"uses `{dotted or node.attr}` (frames, "
                                            f"tracing or the garbage collector)")
        elif node.attr == "__builtins__" or resolved.startswith("builtins."):
            self.add("patch-builtins", node, f"uses `{dotted or node.attr}`")
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id == "__builtins__":
            self.add("patch-builtins", node, "uses `__builtins__`")
        elif self.aliases.get(node.id) in ("sys.modules",):
            self.add("sys-modules", node, "uses `sys.modules`")
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        dotted = _dotted(node.func) or ""
        resolved = self.resolve(dotted) if dotted else ""
        name = resolved.rsplit(".", 1)[-1]
        if resolved.startswith("os.") and name in _PROCESS_CALLS:
            self.add("process-control", node, f"calls `{dotted}`")
        elif resolved in _DYNAMIC:
            self.add("dynamic-code", node, f"calls `{resolved}`: code the audit cannot read")
        elif resolved in ("setattr", "delattr") and node.args:
            target = _dotted(node.args[0])
            if target:
                self._patched(self.resolve(target), f"{target}.<{resolved}>", node)
        elif resolved in ("importlib.import_module",) and node.args \
                and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            self._module_import(node, node.args[0].value)
        if resolved in ("open", "io.open", "pathlib.Path", "Path", "os.open") and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str) \
                    and (first.value.startswith(("/", "~")) or ".." in first.value):
                self.add("path-outside", node, f"opens `{first.value}` outside its folder")
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str) and _GRADING_WORDS.search(node.value):
            self.add("grading-files", node,
                     f"names grading files: {node.value[:60]!r}")


_REGEX_RULES = [
    ("import-{0}", re.compile(r"^\s*(?:import|from)\s+(\w+)"), "imports `{0}`"),
    ("process-control", re.compile(r"\bos\.(_exit|kill|killpg|fork|system|popen|exec\w*)\b"),
     "calls `os.{0}`"),
    ("patch-testing", re.compile(r"\btesting\.(\w+)\s*=[^=]"), "replaces `testing.{0}`"),
    ("patch-builtins", re.compile(r"(__builtins__|\bbuiltins\.\w+\s*=[^=])"), "uses `{0}`"),
    ("override-equality", re.compile(r"\bdef\s+(__eq__|__ne__|__bool__|__hash__)\b"),
     "defines `{0}`"),
    ("sys-modules", re.compile(r"\bsys\.(modules)\b"), "uses `sys.{0}`"),
    ("reload", re.compile(r"\b(reload)\s*\("), "calls `{0}`"),
    ("grading-files", re.compile(r"(gradebook|solutions|\.nbgrader|autograded)"),
     "names `{0}`"),
]


def _regex_findings(source: str) -> list[tuple[str, int, str]]:
    found = []
    for number, line in enumerate(source.splitlines(), start=1):
        for rule, pattern, message in _REGEX_RULES:
            match = pattern.search(line)
            if not match:
                continue
            word = match.group(1)
            if rule == "import-{0}" and word not in SUSPICIOUS_MODULES:
                continue
            found.append((rule.format(word), number,
                          message.format(word) + " (cell does not parse; matched by text)"))
    return found


_SHELL_LINE = re.compile(r"^\s*(!|%%?(system|sx|bash|sh|script|writefile|run|load)\b)")


def _without_magics(source: str) -> str:
    """IPython magics replaced by the code they run, keeping line numbers.

    ``%time x = f()`` becomes ``x = f()``; ``!shell`` and ``%%cell`` lines
    become ``pass``.
    """
    lines = []
    for line in source.splitlines():
        match = re.match(r"^(\s*)%(?!%)\w+\s*(.*)$", line)
        if match:
            lines.append(match.group(1) + (match.group(2) or "pass"))
        else:
            lines.append(re.sub(r"^(\s*)(!|%%).*$", r"\1pass", line))
    return "\n".join(lines)


def audit_source(source: str, aliases: dict[str, str] | None = None
                 ) -> list[tuple[str, int, str]]:
    """Audits one cell's code; returns ``(rule, line, message)`` tuples.

    Args:
        source: The cell's code.
        aliases: Import aliases seen in earlier cells (updated in place).
    """
    aliases = {} if aliases is None else aliases
    shell = [("shell", number, "runs a shell command or external file through IPython")
             for number, line in enumerate(source.splitlines(), start=1)
             if _SHELL_LINE.match(line)]
    try:
        tree = ast.parse(_without_magics(source))
    except (SyntaxError, ValueError):
        return shell + _regex_findings(source)
    visitor = _Visitor(aliases)
    visitor.visit(tree)
    return shell + visitor.found


_cell_source = facts.cell_source
_nbgrader = facts.nbgrader_meta


def _is_locked_test(cell: dict) -> bool:
    data = _nbgrader(cell)
    return bool(data.get("locked") or data.get("grade")) and not data.get("solution")


def audit_notebook(notebook: dict, reference: dict | None = None) -> list[Finding]:
    """Returns the suspicious constructs in a submission, in cell order.

    Every code cell the student can change is read, including cells they
    added. Locked cells (nbgrader's test and read-only cells) are skipped:
    nbgrader replaces them with the gradebook's copy before running; with
    ``reference`` (the release or source notebook), a locked cell is only
    skipped when its source is the reference's, so a cell merely *marked*
    locked by the student is still read. Honest course solutions produce no
    finding.

    Args:
        notebook: The submission as an nbformat JSON dict (as read with
            ``json.load``); malformed cells are skipped, never an error.
        reference: Optional release or source notebook of the assignment.

    Returns:
        The findings, sorted by cell position and line, without duplicates;
        empty for honest code.
    """
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    if not isinstance(cells, list):
        return []
    known: dict[str, str] | None = None
    if isinstance(reference, dict) and isinstance(reference.get("cells"), list):
        known = {str(_nbgrader(c).get("grade_id")): _cell_source(c)
                 for c in reference["cells"] if isinstance(c, dict) and _is_locked_test(c)}
    aliases: dict[str, str] = {}
    findings: list[Finding] = []
    for index, cell in enumerate(cells):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        grade_id = _nbgrader(cell).get("grade_id")
        if _is_locked_test(cell) and (known is None
                                      or known.get(str(grade_id)) == _cell_source(cell)):
            continue
        name = str(grade_id) if grade_id else f"cell-{index}"
        seen = set()
        for rule, line, message in audit_source(_cell_source(cell), aliases):
            if (rule, line) not in seen:
                seen.add((rule, line))
                findings.append(Finding(rule, name, line, message))
    return findings
