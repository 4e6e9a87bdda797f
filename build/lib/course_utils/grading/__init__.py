"""Instructor-side tools built on nbgrader: releasing and grading assignments.

Nothing here knows a chapter: every function works for any nbgrader
assignment. Student-facing code never imports this package.
"""
