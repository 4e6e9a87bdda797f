"""The instructor's and the book's tools: the `course` command, the book build, grading.

Pages and exercises never import this package; nothing in it is part of the
public API of :mod:`course_utils`."""
