"""Keeping Jupyter Book's execution cache honest.

Jupyter Book (``execute_notebooks: cache``) re-executes a page only when the
page's own code cells change. A page that imports ``course_utils`` also
depends on the helper modules it uses, on the pinned requirements and on the
data; when one of those changes, the cached outputs are stale and would be
published as they are.

This module computes, for each page, a fingerprint of everything it depends
on: the ``course_utils`` modules it imports (followed through their own
imports), ``requirements.txt`` and the Fashion-MNIST files. A manifest in the
cache folder remembers the fingerprint each page was executed with; before a
build, :func:`invalidate_stale_pages` drops the cache entries of exactly the
pages whose fingerprint changed, so Jupyter Book executes those again and
reuses the rest.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import re
from collections.abc import Iterable
from pathlib import Path

__all__ = [
    "page_dependencies",
    "page_fingerprint",
    "invalidate_stale_pages",
    "record_fingerprints",
]

MANIFEST_NAME = "course_fingerprints.json"
_CODE_CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(.*?)^```", re.S | re.M)


def _package_dir() -> Path:
    return Path(__file__).resolve().parent.parent  # course_utils/, above instructor/


def _public_table(package_dir: Path) -> dict[str, tuple[str, ...]]:
    """Reads ``_PUBLIC`` from the package's ``__init__.py`` without importing it."""
    tree = ast.parse((package_dir / "__init__.py").read_text())
    for node in ast.walk(tree):
        target = getattr(node, "target", None) if isinstance(node, ast.AnnAssign) else (
            node.targets[0] if isinstance(node, ast.Assign) else None)
        if isinstance(target, ast.Name) and target.id == "_PUBLIC":
            return ast.literal_eval(node.value)
    raise ValueError(f"No _PUBLIC table in {package_dir / '__init__.py'}")


def _page_code(page: Path) -> str:
    """The code of a page's code cells, IPython magics and cell options removed."""
    text = Path(page).read_text(encoding="utf-8")
    if page.suffix == ".ipynb":
        cells = ["".join(c["source"]) for c in json.loads(text).get("cells", [])
                 if c["cell_type"] == "code"]
    else:
        cells = _CODE_CELL.findall(text)
    code = []
    for cell in cells:
        lines = cell.splitlines()
        if lines and lines[0].strip() == "---":  # a YAML block of cell options
            end = lines.index("---", 1) if "---" in lines[1:] else 0
            lines = lines[end + 1:]
        code.extend(line for line in lines
                    if not line.lstrip().startswith((":", "%", "!")))
    return "\n".join(code)


def _imported_modules(code: str, public: dict[str, tuple[str, ...]],
                      package: str = "course_utils", current: str | None = None) -> set[str]:
    """Dotted names, relative to the package, of the modules a piece of code imports.

    ``current`` is the dotted name of the module the code belongs to (``"core.data"``,
    or ``"core.__init__"`` for a package's ``__init__.py``): relative imports are
    resolved against it. A name may be a module, a subpackage or neither (an
    attribute imported from a module); :func:`page_dependencies` keeps those that exist.
    """
    owner = {name: module for module, names in public.items() for name in names}
    try:
        tree = ast.parse(code)
    except SyntaxError:
        # Not plain Python: every import of the package counts.
        return set(public) if package in code else set()
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                if current is None:
                    continue
                parts = current.split(".")[:-1]
                parts = parts[:len(parts) - (node.level - 1)]
                base = ".".join(parts + ([node.module] if node.module else []))
            elif node.module == package:
                base = ""
                for alias in node.names:
                    if alias.name in owner:
                        found.add(owner[alias.name])
                    elif alias.name == "*":
                        found.update(public)
            elif (node.module or "").startswith(package + "."):
                base = node.module[len(package) + 1:]
            else:
                continue
            if base:
                found.add(base)
            # `from course_utils.core import data`: the name may be a submodule.
            found.update(f"{base}.{a.name}" if base else a.name for a in node.names
                         if a.name != "*")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == package:
                    found.update(public)  # `import course_utils`: anything may be used
                elif alias.name.startswith(package + "."):
                    found.add(alias.name[len(package) + 1:])
    return found


def _module_file(package_dir: Path, name: str) -> Path | None:
    """The file of module ``name`` (dotted, relative to the package), if there is one."""
    single = package_dir.joinpath(*name.split(".")).with_suffix(".py")
    if single.is_file():
        return single
    init = package_dir.joinpath(*name.split("."), "__init__.py")
    return init if init.is_file() else None


def page_dependencies(page: Path, package_dir: Path | None = None) -> list[Path]:
    """The ``course_utils`` source files a page depends on, sorted.

    Args:
        page: a MyST-Markdown (``.md``) or ``.ipynb`` page.
        package_dir: the ``course_utils`` folder (this package by default).

    Returns:
        Paths of the modules the page imports, followed through the modules'
        own imports of other ``course_utils`` modules, plus the ``__init__.py``
        of the package and of every subpackage on the way.
    """
    package_dir = Path(package_dir) if package_dir else _package_dir()
    public = _public_table(package_dir)
    pending = _imported_modules(_page_code(Path(page)), public)
    if not pending:
        return []
    seen: set[str] = set()
    files = {package_dir / "__init__.py"}
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        path = _module_file(package_dir, name)
        if path is None:
            continue
        files.add(path)
        parts = name.split(".")
        for i in range(1, len(parts)):  # importing a.b.c runs a/__init__.py and a/b/__init__.py
            pending.add(".".join(parts[:i]))
        current = f"{name}.__init__" if path.name == "__init__.py" else name
        pending |= _imported_modules(path.read_text(), public, current=current) - seen
    return sorted(files)


def _data_fingerprint() -> str:
    from course_utils.core import data

    try:
        source = data.find_source(("env", "debian"))
    except data.DataNotFoundError:
        return "keras-or-missing"
    stats = [f"{p.name}:{p.stat().st_size}:{int(p.stat().st_mtime)}"
             for p in sorted(source.folder.glob("*.gz"))]
    return f"{source}|{','.join(stats)}"


def page_fingerprint(page: Path, root: Path, package_dir: Path | None = None,
                     data_fingerprint: str | None = None) -> str:
    """A hash of everything outside the page that its outputs depend on.

    Pages that import nothing from ``course_utils`` get an empty fingerprint.
    """
    package_dir = Path(package_dir) if package_dir else _package_dir()
    files = page_dependencies(page, package_dir)
    if not files:
        return ""
    digest = hashlib.sha256()
    for path in files:
        name = path.relative_to(package_dir).as_posix()
        digest.update(name.encode() + b"\0" + path.read_bytes() + b"\0")
    requirements = Path(root) / "requirements.txt"
    if requirements.is_file():
        digest.update(requirements.read_bytes())
    digest.update((data_fingerprint if data_fingerprint is not None
                   else _data_fingerprint()).encode())
    return digest.hexdigest()


def _load_manifest(cache_dir: Path) -> dict[str, str]:
    path = Path(cache_dir) / MANIFEST_NAME
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError:
        return {}


def invalidate_stale_pages(root: Path, pages: Iterable[Path], cache_dir: Path,
                           package_dir: Path | None = None,
                           data_fingerprint: str | None = None) -> list[Path]:
    """Drops the cached outputs of pages whose dependencies changed.

    A page is stale when its fingerprint differs from the one recorded the
    last time it was executed (a page never recorded counts as stale if the
    cache holds outputs for it).

    Args:
        root: the book's root folder.
        pages: the pages of the book.
        cache_dir: Jupyter Book's execution cache folder.
        package_dir: the ``course_utils`` folder (this package by default).
        data_fingerprint: override the data's fingerprint (for tests).

    Returns:
        The pages whose cache entries were removed.
    """
    cache_dir = Path(cache_dir)
    if not (cache_dir / "global.db").is_file():
        return []
    from jupyter_cache import get_cache

    cache = get_cache(str(cache_dir))
    manifest = _load_manifest(cache_dir)
    records_by_uri: dict[str, list[int]] = {}
    for record in cache.list_cache_records():
        records_by_uri.setdefault(str(Path(record.uri).resolve()), []).append(record.pk)
    stale = []
    for page in pages:
        key = str(Path(page).resolve())
        fingerprint = page_fingerprint(Path(page), root, package_dir, data_fingerprint)
        if key in records_by_uri and manifest.get(key) != fingerprint:
            for pk in records_by_uri[key]:
                cache.remove_cache(pk)
            # Sphinx re-reads (and so re-executes) only sources newer than its
            # last build: mark the page as modified, leaving its content as is.
            os.utime(page)
            stale.append(Path(page))
    return stale


def record_fingerprints(root: Path, pages: Iterable[Path], cache_dir: Path,
                        package_dir: Path | None = None,
                        data_fingerprint: str | None = None) -> None:
    """Writes the manifest after a successful build: every page is now fresh."""
    cache_dir = Path(cache_dir)
    cache_dir.mkdir(parents=True, exist_ok=True)
    manifest = {str(Path(p).resolve()): page_fingerprint(Path(p), root, package_dir,
                                                         data_fingerprint)
                for p in pages}
    (cache_dir / MANIFEST_NAME).write_text(json.dumps(manifest, indent=1, sort_keys=True))
