"""nbgrader's command line, started the way every grading process starts.

``python -m course_utils.instructor.grading.nbgrader_main generate_assignment ...`` is
``nbgrader generate_assignment ...``, except that :mod:`course_utils.instructor.grading`
is imported first, so the process skips the import it never needs (see the
package's ``__init__``).
"""

from __future__ import annotations

import course_utils.instructor.grading  # noqa: F401 (first: it skips an unneeded slow import)

if __name__ == "__main__":
    from nbgrader.apps.nbgraderapp import main

    main()
