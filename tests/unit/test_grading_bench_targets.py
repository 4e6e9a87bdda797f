"""`make bench` judges grading throughput against issue 17's targets correctly."""

from __future__ import annotations

from tests.benchmarks import grading_throughput as bench


def _row(assignment, mode, rate, n=8):
    return {"assignment": assignment, "mode": mode, "n": n, "submissions_per_minute": rate}


def test_targets_are_ratios_to_plain_nbgrader_of_the_same_batch():
    results = [_row("ch01_unstable_gradients", "nbgrader", 4.0),
               _row("ch01_unstable_gradients", "jobs1", 3.7),   # 0.925x >= 0.9
               _row("ch01_unstable_gradients", "jobs2", 6.6),   # 1.65x < 1.7
               _row("small", "nbgrader", 20.0), _row("small", "jobs1", 15.0)]  # 0.75x < 0.8
    checked = {(t["assignment"], t["mode"]): t for t in bench.targets(results)}
    assert checked["ch01_unstable_gradients", "jobs1"]["met"]
    assert checked["ch01_unstable_gradients", "jobs1"]["ratio"] == 0.93
    assert not checked["ch01_unstable_gradients", "jobs2"]["met"]
    assert not checked["small", "jobs1"]["met"]
    table = bench.markdown(results)
    assert "| small (8 submissions) | 20.00 | 15.00 (0.75x; target 0.8x **missed**) |" in table
    assert "6.60 (1.65x; target 1.7x **missed**)" in table


def test_a_target_without_its_nbgrader_baseline_is_not_judged():
    assert bench.targets([_row("small", "jobs1", 15.0)]) == []
    assert "small (8 submissions) | 15.00 |" in bench.markdown([_row("small", "jobs1", 15.0)])
