"""Instructor-side tools built on nbgrader: releasing and grading assignments.

Nothing here knows a chapter: every function works for any nbgrader
assignment. Student-facing code never imports this package.
"""

import sys as _sys

# nbformat validates notebooks with jsonschema, whose format checkers import
# rfc3987_syntax when it is installed (jupyter-events asks for it). That package
# compiles about 35 Lark parsers as it is imported: 2.4 s in every grading
# process (the command, each grader, each nbgrader run), for the "iri" formats
# that no notebook schema uses (jsonschema issue #1428). Grading processes
# import this package first, so they skip it: jsonschema then leaves those two
# formats unchecked. A process that imported jsonschema before is left alone.
if "jsonschema" not in _sys.modules:
    _sys.modules.setdefault("rfc3987_syntax", None)
