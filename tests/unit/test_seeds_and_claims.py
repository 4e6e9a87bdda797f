"""Seeds shifted by COURSE_SEED, repeated runs, paired differences, claim guards, tables."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from course_utils import (
    ClaimError,
    PairedDifference,
    check_claim,
    check_difference,
    course_seed,
    describe_difference,
    markdown_table,
    run_over_seeds,
    seed_for,
    seed_range,
)


def test_course_seed_shifts_every_seed(monkeypatch):
    monkeypatch.delenv("COURSE_SEED", raising=False)
    assert course_seed() == 0 and seed_for(42) == 42 and seed_range(3) == [0, 1, 2]
    monkeypatch.setenv("COURSE_SEED", "2")
    assert course_seed() == 2 and seed_for(42) == 2042 and seed_range(2, start=5) == [2005, 2006]


@pytest.mark.parametrize("text", ["-1", "one", "1.5"])
def test_bad_course_seed_is_a_clear_error(monkeypatch, text):
    monkeypatch.setenv("COURSE_SEED", text)
    with pytest.raises(ValueError, match=r"COURSE_SEED must be a non-negative whole number\. "
                                         r"Received: '" + text.replace(".", r"\.")):
        seed_for(1)


def test_run_over_seeds_pairs_configurations_by_seed(monkeypatch):
    monkeypatch.delenv("COURSE_SEED", raising=False)
    calls = []

    def experiment(config, seed):
        calls.append((config, seed))
        return {"acc": config * 0.1 + seed * 0.01, "loss": 1.0 - seed}

    results = run_over_seeds(experiment, [1, 3], n_seeds=4)
    assert calls == [(c, s) for s in range(4) for c in (1, 3)]
    assert results.seeds == (0, 1, 2, 3) and results.configs == ["1", "3"]
    # NumPy reference: mean and sample std over the seeds.
    acc3 = np.array([0.3 + s * 0.01 for s in range(4)])
    assert math.isclose(results.mean("3", "acc"), acc3.mean(), rel_tol=1e-12)
    assert math.isclose(results.std("3", "acc"), acc3.std(ddof=1), rel_tol=1e-12)
    diff = results.difference("3", "1", "acc")
    np.testing.assert_allclose(diff.differences, [0.2] * 4, rtol=1e-12)
    assert diff.se == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError, match="several metrics"):
        results.mean("1")
    with pytest.raises(KeyError, match="Unknown configuration 'x'"):
        results.mean("x", "acc")


def test_run_over_seeds_rejects_non_numbers():
    with pytest.raises(TypeError, match="must return numbers. Received: str"):
        run_over_seeds(lambda config, seed: "0.9", ["a"], n_seeds=1)


def test_paired_difference_standard_error_matches_numpy():
    d = np.array([0.03, 0.01, 0.02, 0.05, 0.04])
    diff = PairedDifference("a", "b", tuple(d))
    assert diff.mean == pytest.approx(d.mean(), rel=1e-12)
    assert diff.se == pytest.approx(d.std(ddof=1) / np.sqrt(5), rel=1e-12)
    assert diff.is_clear() and not PairedDifference("a", "b", (0.03, -0.01, 0.02)).is_clear()
    assert math.isnan(PairedDifference("a", "b", (0.1,)).se)


def test_check_claim_passes_and_fails_with_value_bound_and_margin(tmp_path, monkeypatch):
    log = tmp_path / "claims.jsonl"
    monkeypatch.setenv("COURSE_CLAIMS_LOG", str(log))
    claim = check_claim("diverges", 0.11, below=0.2)
    assert claim.margin == pytest.approx(0.09) and claim.holds
    with pytest.raises(ClaimError, match=r"claim 'beats': value 0\.5 > bound 0\.6, "
                                         r"margin -0\.1 \(missed by 0\.1\)"):
        check_claim("beats", 0.5, above=0.6)
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["name"] for r in records] == ["diverges", "beats"]
    assert records[1]["margin"] == pytest.approx(-0.1)
    with pytest.raises(ValueError, match="exactly one"):
        check_claim("x", 1.0)
    with pytest.raises(ClaimError, match="NaN"):
        check_claim("x", float("nan"), above=0)


def test_check_difference_needs_a_clear_gap_and_every_seed():
    check_difference("a beats b", PairedDifference("a", "b", (0.03, 0.04, 0.05)))
    with pytest.raises(ClaimError, match="margin"):
        check_difference("a beats b", PairedDifference("a", "b", (0.03, -0.04, 0.05)))
    with pytest.raises(ClaimError, match="not every seed agrees"):
        check_difference("a beats b", PairedDifference("a", "b", (0.30, 0.31, 0.32, 0.30, -0.001)),
                         k=1.0)


def test_describe_difference_says_no_clear_difference_when_there_is_none():
    clear = describe_difference(PairedDifference("Adam", "SGD", (0.05, 0.06, 0.04)))
    assert clear.startswith("Adam is ahead by 0.050 ± 0.006")
    behind = describe_difference(PairedDifference("SGD", "Adam", (-0.05, -0.06, -0.04)))
    assert behind.startswith("Adam is ahead by 0.050")
    unclear = describe_difference(PairedDifference("a", "b", (0.01, -0.02, 0.015)))
    assert unclear.startswith("no clear difference (a − b = +0.002 ± 0.011")


def test_markdown_table_is_a_gfm_table_and_checks_row_length():
    text = markdown_table([["relu", 0.84567], ["elu", 0.8]], ["activation", "accuracy"],
                          floatfmt=".3f")
    lines = text.splitlines()
    assert lines[0].split("|")[1].strip() == "activation"
    assert set(lines[1].replace("|", "").replace(":", "")) == {"-"}
    assert "0.846" in lines[2] and "0.800" in lines[3]
    with pytest.raises(ValueError, match=r"Expected 2 cells per row .* Received: 1 in row 1"):
        markdown_table([["a", 1], ["b"]], ["x", "y"])


def test_show_table_displays_once_and_returns_nothing(monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    from course_utils import show_table

    assert show_table([["a", 1]], ["x", "y"]) is None, (
        "a returned object would be displayed a second time when the call ends a cell")
    assert len(shown) == 1 and "| x" in shown[0].data


def test_set_seed_seeds_keras_with_the_shifted_seed_and_shows_nothing(monkeypatch):
    import keras

    from course_utils import set_seed

    monkeypatch.setenv("COURSE_SEED", "1")
    assert set_seed(5) is None  # a cell that ends with set_seed(...) displays nothing
    first = keras.random.uniform((3,), seed=None)
    keras.utils.set_random_seed(5 + 1000)  # seed_for(5) with COURSE_SEED=1
    again = keras.random.uniform((3,), seed=None)
    np.testing.assert_array_equal(np.asarray(first), np.asarray(again))


def test_a_pipe_inside_a_cell_stays_inside_its_cell():
    """|θ| or |update| in a header or cell must not split it: checked with the GFM table
    parser myst-nb uses (markdown-it with tables), an independent reader of the text."""
    from markdown_it import MarkdownIt

    from course_utils import markdown_table

    text = markdown_table([["momentum", "|θ| = 0.5", 1.5]], ["optimizer", "|θ| after 200", "x"])
    html = MarkdownIt("commonmark").enable("table").render(text)
    assert html.count("<table>") == 1
    assert html.count("<th>") == 3 and html.count("<td>") == 3
    assert "<th>|θ| after 200</th>" in html
    assert "<td>|θ| = 0.5</td>" in html
