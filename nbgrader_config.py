"""nbgrader configuration of the course (used by `course release`, `course grade`,
`nbgrader ...` run from the repository root, and the tests)."""

import os

# Quiet TensorFlow in every kernel nbgrader starts (kernels inherit this
# process's environment): its C++ log lines would land on stderr.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("PYTHONWARNINGS", "ignore::DeprecationWarning")

c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)

c.CourseDirectory.course_id = "training-deep-neural-networks"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
c.CourseDirectory.db_url = "sqlite:///gradebook.db"
c.CourseDirectory.ignore = [
    ".ipynb_checkpoints",
    "*.pyc",
    "__pycache__",
    "feedback",
    "*.keras",
]

# Release: the same stub in every answer cell, so a blank release is
# recognisable and scores 0.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Execution: a per-cell limit that a correct answer never reaches (the
# slowest solution cell takes a few seconds), but an infinite loop does.
c.Execute.timeout = 120
c.Execute.interrupt_on_timeout = True
c.Execute.startup_timeout = 120

# A correct answer must never be zeroed by a library log line or warning on
# stderr: drop TensorFlow/absl/XLA log lines and Python warnings.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = (
    r"(?m)^("
    r"[IWE]\d{4} [\d:.]+\s+\d+ \S+\.(cc|h):\d+\]"  # absl / TF C++ log lines
    r"|WARNING: All log messages before absl::InitializeLog"
    r"|.*\b\w*Warning: "  # any Python warning (DeprecationWarning, UserWarning, ...)
    r"|.*oneDNN custom operations"
    r"|To enable the following instructions"
    r"|.*This TensorFlow binary is optimized"
    r")"
)

# A student who deletes or breaks a test cell still gets it graded: the
# gradebook's copy is put back.
c.OverwriteCells.add_missing_cells = True

# Huge printed output must not bloat the graded copy.
c.LimitOutput.max_lines = 1000
c.LimitOutput.max_traceback = 100
