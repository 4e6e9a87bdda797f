"""Regularization helpers against NumPy references and closed-form moments."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import course_utils
from course_utils.ch09_regularization import mc_dropout, weights
from course_utils.ch09_regularization.mc_dropout import (
    MCAlphaDropout,
    MCDropout,
    expected_calibration_error,
    mc_dropout_predict,
    mc_dropout_predict_loop,
    predictive_entropy,
)
from course_utils.ch09_regularization.weights import (
    kernel_norms,
    kernel_weights,
    l1_l2_penalty,
    weight_norm,
    weight_sparsity,
)

PREDICTORS = {
    "batched": lambda model, X, n, **kw: mc_dropout_predict(model, X, n, **kw),
    "batched_small_calls": lambda model, X, n, **kw: mc_dropout_predict(
        model, X, n, max_batch_size=50 * len(X), **kw),
    "loop": lambda model, X, n, **kw: mc_dropout_predict_loop(model, X, n, **kw),
}


def _mlp(rate=0.3, *, dropout=keras.layers.Dropout, batch_norm=False, n_in=6, n_out=4):
    layers = [keras.Input(shape=(n_in,)), keras.layers.Dense(16, activation="relu")]
    if batch_norm:
        layers.append(keras.layers.BatchNormalization())
    if rate is not None:
        layers.append(dropout(rate))
    layers += [keras.layers.Dense(8, activation="relu"),
               keras.layers.Dense(n_out, activation="softmax")]
    return keras.Sequential(layers)


def _inputs(n=20, d=6, seed=0):
    return np.random.default_rng(seed).normal(size=(n, d)).astype("float32")


def _linear_dropout_model(w, rate):
    """x -> sum_i w_i * dropout(x)_i: its mean and variance are known exactly."""
    model = keras.Sequential([keras.Input(shape=(len(w),)), keras.layers.Dropout(rate),
                              keras.layers.Dense(1, use_bias=False)])
    model.layers[-1].set_weights([np.asarray(w, dtype="float32")[:, None]])
    return model


@pytest.mark.parametrize("module", [mc_dropout, weights])
def test_public_names_match_the_package_table(module):
    key = module.__name__.removeprefix("course_utils.")
    assert tuple(module.__all__) == course_utils._PUBLIC[key]
    for name in module.__all__:
        assert getattr(course_utils, name) is getattr(module, name)


# --- Monte Carlo dropout layers ---------------------------------------------------

def test_mc_dropout_is_inverted_dropout_at_inference():
    rate = 0.3
    x = np.random.default_rng(1).uniform(1.0, 2.0, size=(200, 100)).astype("float32")
    layer = MCDropout(rate)
    first = keras.ops.convert_to_numpy(layer(x, training=False))
    second = keras.ops.convert_to_numpy(layer(x))
    assert not np.array_equal(first, second), "the masks must differ between calls"
    kept = first != 0
    # Kept units are scaled by 1 / (1 - rate), the others are exactly zero.
    np.testing.assert_allclose(first[kept], x[kept] / (1 - rate), rtol=1e-6)
    # 20,000 Bernoulli draws: the standard error of the dropped fraction is 0.0032.
    assert abs((~kept).mean() - rate) < 0.02


def test_mc_alpha_dropout_keeps_zero_mean_unit_variance():
    x = np.random.default_rng(2).normal(size=(400, 250)).astype("float32")
    layer = MCAlphaDropout(0.2)
    out = keras.ops.convert_to_numpy(layer(x, training=False))
    assert not np.allclose(out, x), "alpha dropout must be active at inference"
    # 100,000 values: standard errors about 0.003 for the mean and the std.
    assert abs(out.mean()) < 0.03 and abs(out.std() - 1.0) < 0.03


# Keras' own saving code converts variables in a way NumPy 2 flags as deprecated.
@pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")
def test_mc_dropout_layers_save_and_load(tmp_path):
    model = keras.Sequential([keras.Input(shape=(5,)), keras.layers.Dense(8, activation="selu"),
                              MCAlphaDropout(0.1), keras.layers.Dense(8), MCDropout(0.4),
                              keras.layers.Dense(3)])
    path = tmp_path / "mc.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in model.layers]
    assert loaded.layers[1].rate == pytest.approx(0.1)
    assert loaded.layers[3].rate == pytest.approx(0.4)
    x = _inputs(10, 5)
    assert not np.allclose(loaded.predict(x, verbose=0), loaded.predict(x, verbose=0))
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)


# --- mc_dropout_predict ------------------------------------------------------------

@pytest.mark.parametrize("how", sorted(PREDICTORS))
def test_model_without_dropout_gives_identical_samples(how):
    model = _mlp(rate=None)
    X = _inputs(10)
    result = PREDICTORS[how](model, X, 7)
    reference = keras.ops.convert_to_numpy(model(X, training=False))
    assert result.samples.shape == (7, 10, 4)
    if how == "loop":
        # Same call, same numbers: bit for bit.
        for sample in result.samples:
            np.testing.assert_array_equal(sample, result.samples[0])
        np.testing.assert_array_equal(result.std, 0.0)
    # A batched matrix product may round a row differently at another position
    # in the batch, so copies agree to float32 rounding (about 1e-7 relative).
    for sample in result.samples:
        np.testing.assert_allclose(sample, reference, rtol=1e-6, atol=1e-7)
    np.testing.assert_array_less(result.std, 1e-6)
    np.testing.assert_allclose(result.mean, reference, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(result.entropy, predictive_entropy(reference), atol=1e-6)
    np.testing.assert_allclose(result.mutual_information, 0.0, atol=1e-6)


def test_batched_and_loop_agree_exactly_with_the_same_seed():
    # With max_batch_size = len(X) every call holds one copy of X, exactly the
    # calls of the loop, so the same seed gives the same masks.
    model = _mlp()
    X = _inputs(12)
    batched = mc_dropout_predict(model, X, 9, max_batch_size=len(X), seed=5)
    looped = mc_dropout_predict_loop(model, X, 9, seed=5)
    np.testing.assert_array_equal(batched.samples, looped.samples)
    assert np.all(batched.std.max(axis=0) > 0), "dropout must make the samples differ"


def test_entropy_and_mutual_information_match_numpy():
    result = mc_dropout_predict(_mlp(0.5), _inputs(10), 40, seed=1)
    p = result.samples.astype(np.float64)
    mean = p.mean(axis=0)
    entropy = -(mean * np.log(mean)).sum(axis=1)
    expected_entropy = -(p * np.log(p)).sum(axis=2).mean(axis=0)
    np.testing.assert_allclose(result.mean, mean, rtol=1e-12)
    np.testing.assert_allclose(result.std, p.std(axis=0), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(result.entropy, entropy, rtol=1e-9)
    np.testing.assert_allclose(result.mutual_information, entropy - expected_entropy,
                               rtol=1e-6, atol=1e-9)
    # Jensen: the entropy of the mean exceeds the mean entropy when the samples differ.
    assert np.all(result.mutual_information > 0)


def test_seed_is_reproducible_and_leaves_the_model_state_unchanged():
    model = _mlp()
    X = _inputs(12)
    before = [s.numpy() for s in mc_dropout._seed_states(model)]
    assert len(before) == 1
    a = mc_dropout_predict(model, X, 30, max_batch_size=100, seed=11)
    b = mc_dropout_predict(model, X, 30, max_batch_size=100, seed=11)
    c = mc_dropout_predict(model, X, 30, max_batch_size=100, seed=12)
    np.testing.assert_array_equal(a.samples, b.samples)
    assert not np.array_equal(a.samples, c.samples)
    after = [s.numpy() for s in mc_dropout._seed_states(model)]
    np.testing.assert_array_equal(before[0], after[0])
    # Without a seed, repeated calls draw new masks.
    assert not np.array_equal(mc_dropout_predict(model, X, 5).samples,
                              mc_dropout_predict(model, X, 5).samples)


@pytest.mark.parametrize("how", sorted(PREDICTORS))
def test_statistics_match_the_closed_form_moments(how):
    # y = sum_i w_i x_i m_i / (1 - p) with m_i ~ Bernoulli(1 - p):
    # E[y] = sum_i w_i x_i and Var[y] = p / (1 - p) * sum_i (w_i x_i)^2.
    # The loop makes one call a sample: fewer samples keep the test fast.
    rate, n_samples = 0.4, (400 if how == "loop" else 4000)
    rng = np.random.default_rng(3)
    w = rng.normal(size=8)
    X = rng.normal(size=(6, 8)).astype("float32")
    model = _linear_dropout_model(w, rate)
    result = PREDICTORS[how](model, X, n_samples)
    terms = X.astype(np.float64) * w
    mean = terms.sum(axis=1)
    std = np.sqrt(rate / (1 - rate) * (terms ** 2).sum(axis=1))
    assert result.samples.shape == (n_samples, 6, 1)
    # The sample mean is within 6 standard errors (a false alarm about 1e-8 a row).
    np.testing.assert_array_less(np.abs(result.mean[:, 0] - mean), 6 * std / np.sqrt(n_samples))
    # The relative standard error of a sample std is about sqrt((kurtosis - 1) / (4 n)),
    # under 0.04 here for n = 400 (kurtosis below 3): allow 6 of them.
    np.testing.assert_allclose(result.std[:, 0], std, rtol=0.25 if how == "loop" else 0.1)


def test_blocks_and_chunks_are_assembled_in_order():
    # 7 inputs, at most 3 rows a call: blocks of 3, 3 and 1 rows, one copy a call.
    model = _mlp(rate=None)
    X = _inputs(7)
    result = mc_dropout_predict(model, X, 4, max_batch_size=3)
    reference = keras.ops.convert_to_numpy(model(X))
    np.testing.assert_allclose(result.samples, np.broadcast_to(reference, (4, 7, 4)),
                               rtol=1e-6, atol=1e-7)
    # 5 inputs, 12 rows a call: 2 copies a call, n_samples not a multiple of 2.
    result = mc_dropout_predict(model, X[:5], 5, max_batch_size=12)
    np.testing.assert_allclose(result.samples, np.broadcast_to(reference[:5], (5, 5, 4)),
                               rtol=1e-6, atol=1e-7)


def test_training_flag_and_mc_dropout_layers():
    X = _inputs(8)
    plain = _mlp(0.5)
    assert np.all(mc_dropout_predict_loop(plain, X, 6, training=False).std == 0)
    assert np.all(mc_dropout_predict(plain, X, 6, training=False).std < 1e-6)
    mc = _mlp(0.5, dropout=MCDropout, batch_norm=True)
    assert np.all(mc_dropout_predict(mc, X, 6, training=False).std.max(axis=0) > 0)


def test_batch_norm_with_training_true_is_refused():
    model = _mlp(0.5, batch_norm=True)
    with pytest.raises(ValueError, match="BatchNormalization"):
        mc_dropout_predict(model, _inputs(4), 3)
    with pytest.raises(ValueError, match="MCDropout"):
        mc_dropout_predict_loop(model, _inputs(4), 3)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"n_samples": 0}, ValueError, "n_samples"),
    ({"n_samples": 2.5}, ValueError, "n_samples"),
    ({"max_batch_size": 0}, ValueError, "max_batch_size"),
    ({"training": "yes"}, TypeError, "training"),
])
def test_bad_arguments_are_reported(kwargs, error, match):
    arguments = {"n_samples": 3, **kwargs}
    with pytest.raises(error, match=match):
        mc_dropout_predict(_mlp(), _inputs(4), **arguments)


def test_bad_model_and_inputs_are_reported():
    with pytest.raises(TypeError, match="Keras model"):
        mc_dropout_predict(lambda x: x, _inputs(4), 3)
    with pytest.raises(ValueError, match="non-empty"):
        mc_dropout_predict(_mlp(), np.zeros((0, 6), "float32"), 3)


def test_inputs_are_not_modified():
    X = _inputs(9)
    copy = X.copy()
    mc_dropout_predict(_mlp(), X, 5, max_batch_size=4)
    mc_dropout_predict_loop(_mlp(), X, 5)
    np.testing.assert_array_equal(X, copy)


# --- uncertainty and calibration ------------------------------------------------------

def test_predictive_entropy_known_values():
    probs = np.array([[1.0, 0.0, 0.0, 0.0], [0.25] * 4, [0.5, 0.5, 0.0, 0.0]])
    np.testing.assert_allclose(predictive_entropy(probs), [0.0, np.log(4), np.log(2)],
                               rtol=1e-12)
    with pytest.raises(ValueError, match="probabilities"):
        predictive_entropy([[0.5, 0.6]])
    with pytest.raises(ValueError, match="classes"):
        predictive_entropy(np.ones(1))


def test_expected_calibration_error_by_hand():
    # Confidences 0.9, 0.9, 0.6, 0.6, correct 1, 0, 1, 1, bins of width 0.1:
    # bin (0.8, 0.9]: 0.5 * |0.5 - 0.9| = 0.2; bin (0.5, 0.6]: 0.5 * |1 - 0.6| = 0.2.
    probs = np.array([[0.9, 0.1], [0.9, 0.1], [0.4, 0.6], [0.6, 0.4]])
    y = np.array([0, 1, 1, 0])
    assert expected_calibration_error(probs, y, n_bins=10) == pytest.approx(0.4, abs=1e-12)
    # One bin: |accuracy - mean confidence| = |0.75 - 0.75|.
    assert expected_calibration_error(probs, y, n_bins=1) == pytest.approx(0.0, abs=1e-12)
    with pytest.raises(ValueError, match="labels"):
        expected_calibration_error(probs, y[:3])
    with pytest.raises(ValueError, match="labels"):
        expected_calibration_error(probs, np.array([0, 1, 2, 0]))


# --- weights --------------------------------------------------------------------------

def _model_with_weights():
    model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(2),
                              keras.layers.Dense(2)])
    W1 = np.array([[0.0, 1e-4], [2.0, -3.0], [0.5, 0.0]], "float32")
    W2 = np.array([[-1e-5, 4.0], [0.2, -2e-3]], "float32")
    model.layers[0].set_weights([W1, np.array([9.0, 9.0], "float32")])
    model.layers[1].set_weights([W2, np.array([0.0, 7.0], "float32")])
    return model, [W1, W2]


def test_weight_sparsity_and_norm_ignore_biases():
    model, kernels = _model_with_weights()
    assert len(kernel_weights(model)) == 2
    # |w| < 1e-3: 0, 1e-4, 0, -1e-5 (four of ten entries).
    assert weight_sparsity(model) == pytest.approx(0.4)
    assert weight_sparsity(kernels, threshold=1e-2) == pytest.approx(0.5)
    expected = np.sqrt(sum(float(np.sum(k.astype(np.float64) ** 2)) for k in kernels))
    assert weight_norm(model) == pytest.approx(expected, rel=1e-6)
    with pytest.raises(TypeError, match="Keras model"):
        weight_norm("model")
    with pytest.raises(ValueError, match="threshold"):
        weight_sparsity(model, threshold=0)


def test_kernel_norms_after_max_norm_training():
    keras.utils.set_random_seed(0)
    r = 0.5
    layer = keras.layers.Dense(5, kernel_constraint=keras.constraints.MaxNorm(r))
    model = keras.Sequential([keras.Input(shape=(4,)), layer])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.5), loss="mse")
    X, y = _inputs(64, 4), np.random.default_rng(1).normal(0, 10, (64, 5))
    model.fit(X, y, epochs=3, verbose=0)
    norms = kernel_norms(layer)
    kernel = layer.kernel.numpy().astype(np.float64)
    np.testing.assert_allclose(norms, np.sqrt((kernel ** 2).sum(axis=0)), rtol=1e-6)
    assert norms.shape == (5,)
    assert np.all(norms <= r * (1 + 1e-5)), f"norms {norms} above r={r}"
    assert np.all(norms > 0.9 * r), "large targets push every column to the bound"
    with pytest.raises(ValueError, match="2 or more axes"):
        kernel_norms(np.ones(3))


def test_l1_l2_penalty_matches_keras_regularizer():
    w = np.random.default_rng(4).normal(size=(5, 3)).astype("float32")
    for l1, l2 in [(0.01, 0.0), (0.0, 0.02), (0.003, 0.05)]:
        keras_value = float(keras.regularizers.L1L2(l1=l1, l2=l2)(w))
        assert l1_l2_penalty(w, l1=l1, l2=l2) == pytest.approx(keras_value, rel=1e-5)
    assert l1_l2_penalty([w, w], l1=0.1) == pytest.approx(2 * 0.1 * np.abs(w).sum(), rel=1e-6)
    with pytest.raises(ValueError, match="non-negative"):
        l1_l2_penalty(w, l1=-1.0)
