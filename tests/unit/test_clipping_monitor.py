"""Gradient norms logged during fit against GradientTape + NumPy; updates under clipping."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from course_utils import (
    GRADIENT_NORM_KEY,
    GradientNormModel,
    GradientNormRecorder,
    clip_by_global_norm,
    optimizer_updates,
)


def _model(seed=0):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input(shape=(6,)), keras.layers.Dense(8, activation="relu"),
                             keras.layers.Dense(3, activation="softmax")])


def _data():
    rng = np.random.default_rng(1)
    return rng.normal(size=(30, 6)).astype("float32"), rng.integers(0, 3, 30)


@pytest.mark.parametrize("kwargs", [{}, {"global_clipnorm": 0.2}])
def test_logged_norms_match_gradient_tape_and_numpy(kwargs):
    X, y = _data()
    monitored, reference = GradientNormModel(_model()), _model()
    monitored.compile(optimizer=keras.optimizers.SGD(0.5, **kwargs),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    recorder = GradientNormRecorder()
    history = monitored.fit(X, y, epochs=2, batch_size=10, shuffle=False, verbose=0,
                            callbacks=[recorder])
    # Reference: replay the same steps with a GradientTape, norms in NumPy.
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    optimizer = keras.optimizers.SGD(0.5, **kwargs)
    expected = []
    for _ in range(2):
        for start in range(0, 30, 10):
            xb, yb = X[start:start + 10], y[start:start + 10]
            with tf.GradientTape() as tape:
                loss = loss_fn(yb, reference(xb, training=True))
            grads = tape.gradient(loss, reference.trainable_variables)
            expected.append(np.sqrt(sum(np.sum(np.asarray(g, np.float64) ** 2) for g in grads)))
            optimizer.apply(grads, reference.trainable_variables)
    assert recorder.norms.shape == (6,)
    np.testing.assert_allclose(recorder.norms, expected, rtol=1e-4)
    for a, b in zip(monitored.inner.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    assert {"loss", "accuracy", GRADIENT_NORM_KEY} <= set(history.history)
    assert np.isfinite(history.history["loss"]).all() and history.history["loss"][0] > 0
    if kwargs:
        assert recorder.norms.max() > 0.2  # the clipping in the test is active


def test_fit_matches_plain_fit_and_recorder_resets():
    X, y = _data()
    monitored, plain = GradientNormModel(_model(2)), _model(2)
    for model in (monitored, plain):
        model.compile(optimizer=keras.optimizers.Adam(0.01, global_clipnorm=0.5),
                      loss="sparse_categorical_crossentropy")
    recorder = GradientNormRecorder()
    monitored.fit(X, y, epochs=1, batch_size=15, shuffle=False, verbose=0, callbacks=[recorder])
    h_plain = plain.fit(X, y, epochs=1, batch_size=15, shuffle=False, verbose=0)
    for a, b in zip(monitored.inner.get_weights(), plain.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    monitored.fit(X, y, epochs=1, batch_size=30, verbose=0, callbacks=[recorder])
    assert recorder.norms.shape == (1,)
    assert h_plain.history["loss"][0] > 0


def test_errors_and_serialization(tmp_path):
    with pytest.raises(TypeError, match="Keras model to wrap"):
        GradientNormModel("model")
    X, y = _data()
    plain = _model()
    plain.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    with pytest.raises(KeyError, match="GradientNormModel"):
        plain.fit(X, y, epochs=1, verbose=0, callbacks=[GradientNormRecorder()])
    monitored = GradientNormModel(_model())
    monitored.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    monitored.fit(X, y, epochs=1, verbose=0)
    path = tmp_path / "monitored.keras"
    monitored.save(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(X, verbose=0), monitored.predict(X, verbose=0),
                               rtol=1e-6)


def test_optimizer_updates_sgd_is_capped_adam_is_not():
    rng = np.random.default_rng(3)
    grads = [rng.normal(0, 100, 50) for _ in range(4)]
    lr, c = 0.01, 1.0
    sgd = optimizer_updates(keras.optimizers.SGD(lr, global_clipnorm=c), grads)
    for g, update in zip(grads, sgd):
        np.testing.assert_allclose(update, -lr * clip_by_global_norm([g], c)[0][0], rtol=1e-5)
    # NumPy Adam (Keras' form: bias correction folded into the rate) on the clipped gradients.
    b1, b2, eps = 0.9, 0.999, 1e-7
    m = v = np.zeros(50)
    adam = optimizer_updates(keras.optimizers.Adam(lr, global_clipnorm=c), grads)
    for t, (g, update) in enumerate(zip(grads, adam), start=1):
        g = clip_by_global_norm([g], c)[0][0]
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        rate = lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t)
        np.testing.assert_allclose(update, -rate * m / (np.sqrt(v) + eps), rtol=1e-4, atol=1e-8)
    # Known values: SGD's update has norm lr * c, Adam's first moves every coordinate by ~lr.
    np.testing.assert_allclose(np.linalg.norm(sgd, axis=1), lr * c, rtol=1e-5)
    np.testing.assert_allclose(np.abs(adam[0]), lr, rtol=1e-2)
    with pytest.raises(ValueError, match="same shape"):
        optimizer_updates(keras.optimizers.SGD(), [np.ones(2), np.ones(3)])
    with pytest.raises(ValueError, match="initial"):
        optimizer_updates(keras.optimizers.SGD(), [np.ones(2)], initial=np.ones(3))
