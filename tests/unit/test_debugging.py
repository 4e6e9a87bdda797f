"""The two pre-training checks against values known in closed form."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest

from course_utils import OverfitResult, chance_loss, initial_loss, overfit_one_batch


def _classifier(n_inputs=6, n_classes=4, zero_output=False, seed=0):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([
        keras.Input(shape=(n_inputs,)),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(n_classes, activation="softmax",
                           kernel_initializer="zeros" if zero_output else "glorot_uniform"),
    ])
    return model


def test_chance_loss_is_ln_k():
    assert chance_loss(10) == pytest.approx(2.302585092994046, rel=1e-15)
    assert chance_loss(2) == pytest.approx(math.log(2))
    for bad in (1, 0, 2.5, True):
        with pytest.raises(ValueError, match="at least 2 classes"):
            chance_loss(bad)


def test_initial_loss_of_a_uniform_model_is_ln_k():
    # A zero output kernel (and zero bias) gives every class probability 1/4.
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(50, 6)), rng.integers(0, 4, size=50)
    assert initial_loss(_classifier(zero_output=True), X, y) == pytest.approx(math.log(4),
                                                                                abs=1e-6)


def test_initial_loss_matches_numpy_cross_entropy():
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(50, 6)).astype("float32"), rng.integers(0, 4, size=50)
    model = _classifier()
    p = np.asarray(model(X), dtype=np.float64)
    expected = -np.mean(np.log(p[np.arange(50), y]))
    assert initial_loss(model, X, y) == pytest.approx(expected, rel=1e-6)
    assert expected != pytest.approx(math.log(4), abs=1e-3)  # not trivially uniform


def test_initial_loss_rejects_bad_input():
    model = _classifier()
    with pytest.raises(ValueError, match="one integer label per input"):
        initial_loss(model, np.zeros((3, 6)), np.zeros(2, dtype=int))
    with pytest.raises(ValueError, match="labels up to 7"):
        initial_loss(model, np.zeros((3, 6)), np.array([0, 1, 7]))
    linear = keras.Sequential([keras.Input(shape=(6,)), keras.layers.Dense(4)])
    with pytest.raises(ValueError, match="softmax"):
        initial_loss(linear, np.ones((3, 6)), np.array([0, 1, 2]))


def test_a_working_model_memorizes_a_random_batch():
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(32, 6)).astype("float32"), rng.integers(0, 4, size=32)
    model = _classifier(seed=3)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    result = overfit_one_batch(model, X, y, max_steps=400, check_every=20)
    assert isinstance(result, OverfitResult)
    assert result.reached and result.final_accuracy == 1.0
    assert result.steps_taken % 20 == 0 and result.steps_taken <= 400
    assert list(result.steps) == sorted(result.steps)


def test_training_mode_measures_batch_norm_with_batch_statistics():
    # The moving statistics of a fresh BN layer are mean 0, variance 1; with
    # inputs of scale 100 the inference-mode network differs from the trained one.
    rng = np.random.default_rng(5)
    X = (100 * rng.normal(size=(32, 6)) + 50).astype("float32")
    y = rng.integers(0, 4, size=32)
    keras.utils.set_random_seed(6)
    model = keras.Sequential([keras.Input(shape=(6,)), keras.layers.BatchNormalization(),
                              keras.layers.Dense(32, activation="relu"),
                              keras.layers.Dense(4, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    result = overfit_one_batch(model, X, y, max_steps=300, check_every=20, training=True)
    assert result.reached
    expected = np.mean(np.asarray(model(X, training=True)).argmax(1) == y)
    assert expected == 1.0


def test_a_broken_model_does_not_and_the_loop_stops():
    # A learning rate of 0 is a bug the check must expose: nothing changes.
    rng = np.random.default_rng(4)
    X, y = rng.normal(size=(32, 6)).astype("float32"), rng.integers(0, 4, size=32)
    model = _classifier(zero_output=True)
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="sparse_categorical_crossentropy")
    result = overfit_one_batch(model, X, y, max_steps=25, check_every=10)
    assert not result.reached and result.steps == (10, 20, 25)
    assert result.final_accuracy < 1.0


def test_overfit_one_batch_rejects_bad_settings():
    model = _classifier()
    X, y = np.zeros((4, 6)), np.zeros(4, dtype=int)
    with pytest.raises(ValueError, match="compiled"):
        overfit_one_batch(model, X, y)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match="target"):
        overfit_one_batch(model, X, y, target=0)
    with pytest.raises(ValueError, match="max_steps"):
        overfit_one_batch(model, X, y, max_steps=0)
