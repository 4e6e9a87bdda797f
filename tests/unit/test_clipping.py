"""Clipping rules against TensorFlow's, and the logging loop against fit()."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from course_utils import (
    GradientLog,
    clip_by_global_norm,
    clip_by_norm,
    clip_by_value,
    clip_like_optimizer,
    fit_logging_gradients,
    global_norm,
    plot_gradient_logs,
)


@pytest.fixture
def grads():
    rng = np.random.default_rng(0)
    return [rng.normal(0, 3, (4, 5)), rng.normal(0, 0.1, 5), rng.normal(0, 10, (5, 2))]


@pytest.mark.parametrize("clip", [0.05, 1.0, 100.0])
def test_clip_by_value_matches_tensorflow(grads, clip):
    for g in grads:
        np.testing.assert_allclose(clip_by_value(g, clip),
                                   tf.clip_by_value(g, -clip, clip).numpy(), rtol=1e-12)


@pytest.mark.parametrize("clip", [0.05, 1.0, 100.0])
def test_clip_by_norm_matches_tensorflow(grads, clip):
    for g in grads:
        np.testing.assert_allclose(clip_by_norm(g, clip), tf.clip_by_norm(g, clip).numpy(),
                                   rtol=1e-12)


@pytest.mark.parametrize("clip", [0.05, 1.0, 1000.0])
def test_clip_by_global_norm_matches_tensorflow(grads, clip):
    clipped, norm = clip_by_global_norm(grads, clip)
    expected, expected_norm = tf.clip_by_global_norm([tf.constant(g) for g in grads], clip)
    np.testing.assert_allclose(norm, expected_norm.numpy(), rtol=1e-12)
    np.testing.assert_allclose(norm, global_norm(grads), rtol=1e-12)
    for a, b in zip(clipped, expected):
        np.testing.assert_allclose(a, b.numpy(), rtol=1e-12)


def test_the_direction_argument():
    g = np.array([0.9, 100.0])
    np.testing.assert_allclose(clip_by_value(g, 1.0), [0.9, 1.0])
    np.testing.assert_allclose(clip_by_norm(g, 1.0), [0.00899964, 0.99995950], rtol=1e-6)
    unit = g / np.linalg.norm(g)
    by_norm = clip_by_norm(g, 1.0)
    assert np.isclose(np.dot(by_norm / np.linalg.norm(by_norm), unit), 1.0)  # same direction
    by_value = clip_by_value(g, 1.0)
    angle = np.degrees(np.arccos(np.dot(by_value, unit) / np.linalg.norm(by_value)))
    assert angle > 40  # clipping by value turned the gradient by about 41 degrees


def test_inputs_are_not_modified(grads):
    copies = [g.copy() for g in grads]
    clip_by_value(grads[0], 0.1)
    clip_by_norm(grads[0], 0.1)
    clip_by_global_norm(grads, 0.1)
    for a, b in zip(grads, copies):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("bad", [0, -1.0, float("nan"), "1", True])
def test_bad_thresholds(bad):
    with pytest.raises(ValueError, match="positive number"):
        clip_by_norm([1.0], bad)


def test_bad_gradients():
    with pytest.raises(TypeError, match="array of numbers"):
        clip_by_value("abc", 1.0)
    with pytest.raises(TypeError, match="list or tuple"):
        global_norm(np.ones(3))


@pytest.mark.parametrize("kwargs", [{"clipvalue": 0.1}, {"clipnorm": 0.5},
                                    {"global_clipnorm": 0.5}, {}])
def test_clip_like_optimizer_matches_keras(grads, kwargs):
    optimizer = keras.optimizers.SGD(0.1, **kwargs)
    tensors = [tf.constant(g, dtype=tf.float32) for g in grads]
    ours = clip_like_optimizer(optimizer, tensors)
    theirs = optimizer._clip_gradients(tensors)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6)


def _model(seed=0):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input(shape=(6,)), keras.layers.Dense(8, activation="relu"),
                             keras.layers.Dense(3, activation="softmax")])


@pytest.mark.parametrize("kwargs", [{"global_clipnorm": 0.3}, {"clipnorm": 0.2}, {}])
def test_fit_logging_gradients_makes_the_same_updates_as_fit(kwargs):
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(40, 6)).astype("float32"), rng.integers(0, 3, 40)
    ours, reference = _model(), _model()
    log = fit_logging_gradients(ours, X, y, keras.optimizers.SGD(0.5, **kwargs),
                                epochs=3, batch_size=40)
    reference.compile(optimizer=keras.optimizers.SGD(0.5, **kwargs),
                      loss="sparse_categorical_crossentropy")
    reference.fit(X, y, epochs=3, batch_size=40, shuffle=False, verbose=0)
    for a, b in zip(ours.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert isinstance(log, GradientLog) and log.loss.shape == (3,)
    assert np.all(log.norm_after <= log.norm_before + 1e-6)
    if "global_clipnorm" in kwargs:
        assert np.all(log.norm_after <= 0.3 + 1e-5)
        assert log.norm_before.max() > 0.3  # the test clips something


def test_log_records_divergence_and_plots():
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(64, 6)).astype("float32") * 50, rng.integers(0, 3, 64)
    log = fit_logging_gradients(_model(), X, y, keras.optimizers.SGD(50.0), epochs=5,
                                batch_size=16)
    assert log.diverged and len(log.loss) == 20
    axes = plot_gradient_logs({"diverging": log})
    assert len(axes[1].lines) == 2


def test_fit_logging_gradients_errors():
    with pytest.raises(ValueError, match="as many targets"):
        fit_logging_gradients(_model(), np.ones((4, 6)), np.zeros(3), keras.optimizers.SGD())
