"""Diagnostics against values computed by hand with NumPy on tiny models."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from course_utils import (
    LayerStatsRecorder,
    activation_stats,
    gradient_norms,
    plot_gradient_norms,
    plot_layer_stats,
)


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _tiny_model(W1, b1, W2, b2, functional=False):
    if functional:
        inputs = keras.Input(shape=(W1.shape[0],))
        hidden = keras.layers.Dense(W1.shape[1], activation="sigmoid", name="hidden")(inputs)
        outputs = keras.layers.Dense(W2.shape[1], activation="softmax", name="out")(hidden)
        model = keras.Model(inputs, outputs)
    else:
        model = keras.Sequential([
            keras.Input(shape=(W1.shape[0],)),
            keras.layers.Dense(W1.shape[1], activation="sigmoid", name="hidden"),
            keras.layers.Dense(W2.shape[1], activation="softmax", name="out"),
        ])
    model.get_layer("hidden").set_weights([W1, b1])
    model.get_layer("out").set_weights([W2, b2])
    return model


@pytest.fixture
def weights():
    rng = np.random.default_rng(0)
    return (rng.normal(0, 3, (4, 5)).astype("float32"), rng.normal(0, 1, 5).astype("float32"),
            rng.normal(0, 1, (5, 3)).astype("float32"), rng.normal(0, 1, 3).astype("float32"))


@pytest.mark.parametrize("functional", [False, True])
def test_activation_stats_match_numpy(weights, functional):
    W1, b1, W2, b2 = weights
    X = np.random.default_rng(1).normal(size=(64, 4)).astype("float32")
    stats = activation_stats(_tiny_model(W1, b1, W2, b2, functional), X)
    hidden = _sigmoid(X.astype(np.float64) @ W1 + b1)
    logits = hidden @ W2 + b2
    out = np.exp(logits - logits.max(1, keepdims=True))
    out /= out.sum(1, keepdims=True)
    assert [s.name for s in stats] == ["hidden", "out"]
    np.testing.assert_allclose(stats[0].mean, hidden.mean(), rtol=1e-5)
    np.testing.assert_allclose(stats[0].std, hidden.std(), rtol=1e-5)
    expected_saturated = np.mean((hidden < 0.02) | (hidden > 0.98))
    assert expected_saturated > 0  # the large weights make some units saturate
    np.testing.assert_allclose(stats[0].saturated, expected_saturated, atol=1e-12)
    np.testing.assert_allclose(stats[1].mean, out.mean(), rtol=1e-5)
    assert np.isnan(stats[1].saturated)  # softmax has no saturation band


def test_gradient_norms_match_manual_backprop(weights):
    W1, b1, W2, b2 = weights
    rng = np.random.default_rng(2)
    X = rng.normal(size=(32, 4)).astype("float32")
    y = rng.integers(0, 3, size=32)
    norms = gradient_norms(_tiny_model(W1, b1, W2, b2), X, y)
    # Backpropagation by hand, in float64.
    X64 = X.astype(np.float64)
    h = _sigmoid(X64 @ W1 + b1)
    logits = h @ W2 + b2
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    d_logits = (p - np.eye(3)[y]) / len(X)
    dW2 = h.T @ d_logits
    dW1 = X64.T @ ((d_logits @ W2.T) * h * (1 - h))
    assert list(norms) == ["hidden", "out"]
    np.testing.assert_allclose(norms["out"], np.linalg.norm(dW2), rtol=1e-4)
    np.testing.assert_allclose(norms["hidden"], np.linalg.norm(dW1), rtol=1e-4)


def test_gradient_norms_agree_with_finite_differences(weights):
    W1, b1, W2, b2 = weights
    rng = np.random.default_rng(3)
    X = rng.normal(size=(16, 4)).astype("float32")
    y = rng.integers(0, 3, size=16)

    def loss(W1_):
        h = _sigmoid(X.astype(np.float64) @ W1_ + b1)
        logits = h @ W2 + b2
        logits -= logits.max(1, keepdims=True)
        return np.mean(np.log(np.exp(logits).sum(1)) - logits[np.arange(16), y])

    eps, grad = 1e-6, np.zeros_like(W1, dtype=np.float64)
    for index in np.ndindex(W1.shape):
        plus, minus = W1.astype(np.float64), W1.astype(np.float64)
        plus[index] += eps
        minus[index] -= eps
        grad[index] = (loss(plus) - loss(minus)) / (2 * eps)
    norms = gradient_norms(_tiny_model(W1, b1, W2, b2), X, y)
    np.testing.assert_allclose(norms["hidden"], np.linalg.norm(grad), rtol=1e-3)


def test_gradient_norms_do_not_change_the_model(weights):
    model = _tiny_model(*weights)
    before = [w.copy() for w in model.get_weights()]
    X = np.ones((4, 4), "float32")
    gradient_norms(model, X, np.zeros(4, int))
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_bad_inputs_get_clear_errors(weights):
    model = _tiny_model(*weights)
    with pytest.raises(ValueError, match="as many targets as inputs"):
        gradient_norms(model, np.ones((4, 4)), np.zeros(3))
    with pytest.raises(ValueError, match="non-empty batch"):
        activation_stats(model, np.ones((0, 4)))
    no_kernel = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Activation("relu")])
    with pytest.raises(ValueError, match="at least one layer that has a kernel"):
        activation_stats(no_kernel, np.ones((2, 3)))
    with pytest.raises(ValueError, match="every_n_batches"):
        LayerStatsRecorder(np.ones((2, 4)), np.zeros(2), every_n_batches=0)


def test_recorder_records_before_and_during_training(weights):
    keras.utils.set_random_seed(0)
    model = _tiny_model(*weights)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(4)
    X, y = rng.normal(size=(80, 4)).astype("float32"), rng.integers(0, 3, 80)
    recorder = LayerStatsRecorder(X[:16], y[:16], every_n_batches=2)
    model.fit(X, y, batch_size=10, epochs=1, verbose=0, callbacks=[recorder])
    assert recorder.steps == [0, 2, 4, 6, 8]
    assert recorder.activation_std.shape == (5, 2)
    assert recorder.gradient_norm.shape == (5, 2)
    # The last record is the trained model's state.
    final = gradient_norms(model, X[:16], y[:16])
    np.testing.assert_allclose(recorder.gradient_norm[-1], list(final.values()), rtol=1e-5)


def test_plots_draw_one_line_per_run(weights):
    model = _tiny_model(*weights)
    X, y = np.ones((4, 4), "float32"), np.zeros(4, int)
    axes = plot_layer_stats({"a": activation_stats(model, X), "b": activation_stats(model, X)})
    assert len(axes[0].lines) == 2
    ax = plot_gradient_norms({"a": gradient_norms(model, X, y)})
    assert ax.get_yscale() == "log" and len(ax.lines) == 1


def test_gradient_norms_see_gradients_whose_squares_underflow_float32(weights):
    # Scaling the loss by 1e-25 scales every gradient by 1e-25: entries near
    # 1e-26, whose squares (1e-52) are below float32's smallest number. The
    # norm must still be 1e-25 times the unscaled one, not 0.
    W1, b1, W2, b2 = weights
    rng = np.random.default_rng(4)
    X = rng.normal(size=(32, 4)).astype("float32")
    y = rng.integers(0, 3, size=32)
    model = _tiny_model(W1, b1, W2, b2)
    plain = gradient_norms(model, X, y)
    tiny = gradient_norms(model, X, y, loss=lambda t, p: 1e-25 * keras.losses.
                          sparse_categorical_crossentropy(t, p))
    for name in plain:
        assert tiny[name] > 0
        np.testing.assert_allclose(tiny[name], 1e-25 * plain[name], rtol=1e-4)
