"""Tests of the instructor grading command (`course grade`) and its sandbox."""
