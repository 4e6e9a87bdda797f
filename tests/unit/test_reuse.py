"""A model compiled once and restarted trains exactly as a freshly built one."""

import keras
import numpy as np
import pytest

from course_utils import compiled_once


def _data(n=128, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6)).astype("float32")
    y = (X[:, 0] + X[:, 1] > 0).astype("int64") + (X[:, 2] > 0.5).astype("int64")
    return X, y


def _model(units=16):
    """Everything that carries state across a run: BN statistics, dropout's seed
    generator, Nadam's moments and a schedule driven by the step count."""
    model = keras.Sequential([keras.Input(shape=(6,)),
                              keras.layers.Dense(units, kernel_initializer="he_normal"),
                              keras.layers.BatchNormalization(),
                              keras.layers.Activation("swish"),
                              keras.layers.Dropout(0.3),
                              keras.layers.Dense(3, activation="softmax")])
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0, decay_steps=20, warmup_target=0.05, warmup_steps=5)
    model.compile(optimizer=keras.optimizers.Nadam(learning_rate=schedule),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _run(model, X, y):
    history = model.fit(X, y, epochs=3, batch_size=32, verbose=0).history
    return history, model.get_weights()


def test_a_restarted_model_trains_as_a_fresh_one():
    X, y = _data()
    new_model = compiled_once(_model)
    keras.utils.set_random_seed(0)
    first = new_model()
    _run(first, X, y)
    train_function = first.train_function
    for seed in (5, 11):
        keras.utils.set_random_seed(seed)
        reused = new_model()
        assert reused is first
        history, weights = _run(reused, X, y)
        assert reused.train_function is train_function  # traced once
        keras.utils.set_random_seed(seed)
        fresh_history, fresh_weights = _run(_model(), X, y)
        np.testing.assert_allclose(history["loss"], fresh_history["loss"], rtol=1e-5)
        assert history["accuracy"] == fresh_history["accuracy"]
        # Kernels, biases, BN's gamma, beta and moving statistics.
        for w, w_fresh in zip(weights, fresh_weights, strict=True):
            np.testing.assert_allclose(w, w_fresh, rtol=1e-5, atol=1e-6)


def test_the_start_depends_on_the_seed():
    new_model = compiled_once(_model)
    keras.utils.set_random_seed(1)
    kernel_1 = new_model().get_weights()[0].copy()
    keras.utils.set_random_seed(2)
    kernel_2 = new_model().get_weights()[0]
    assert not np.allclose(kernel_1, kernel_2)


def test_another_architecture_is_refused():
    sizes = iter([16, 8])
    new_model = compiled_once(lambda: _model(next(sizes)))
    new_model()
    with pytest.raises(ValueError, match="same architecture"):
        new_model()


def test_an_uncompiled_model_is_refused():
    def uncompiled():
        return keras.Sequential([keras.Input(shape=(2,)), keras.layers.Dense(1)])

    with pytest.raises(ValueError, match="compiled model"):
        compiled_once(uncompiled)()


@pytest.mark.parametrize("build, message", [
    (lambda: "a model", "must return a keras.Model; received str"),
    (None, "`build` must be a function"),
])
def test_bad_builders_are_explained(build, message):
    with pytest.raises(TypeError, match=message):
        compiled_once(build)()
