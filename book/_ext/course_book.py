"""Small Sphinx fixes for the course book (loaded through `_config.yml`).

* Some extensions register their inline scripts once per read phase, so a
  rebuild can put the same `<script>` twice in a page; a duplicated
  `const` declaration is a JavaScript error. Scripts are de-duplicated here.
* The theme expects a default colour mode; without one it logs an error in
  the browser console on every page.
"""

from __future__ import annotations


def _default_mode(app, config) -> None:
    context = dict(config.html_context or {})
    context.setdefault("default_mode", "light")
    config.html_context = context


def _dedupe_scripts(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        attributes = getattr(script, "attributes", {}) or {}
        key = (str(getattr(script, "filename", script) or ""),  # None and "" alike
               tuple(sorted((k, str(v)) for k, v in attributes.items())))
        if key not in seen:
            seen.add(key)
            unique.append(script)
    context["script_files"] = unique


def setup(app):
    app.connect("config-inited", _default_mode)
    app.connect("html-page-context", _dedupe_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
