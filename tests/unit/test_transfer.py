"""Task split, cloning, freezing, and combining results run on the same seeds."""

from __future__ import annotations

import warnings

import keras
import numpy as np
import pytest

from course_utils import (
    LayerwiseAdam,
    RecompileWarning,
    batch_norm_statistics,
    clone_with_weights,
    combine_seed_results,
    load_fashion_mnist,
    run_over_seeds,
    set_trainable,
    split_tasks,
)


@pytest.fixture(scope="module")
def tasks():
    return split_tasks(load_fashion_mnist(n_train=3000, seed=0), n_train_b=200, seed=3)


def test_task_split_labels_and_sizes(tasks):
    data = load_fashion_mnist(n_train=3000, seed=0)
    task_a, task_b = tasks
    assert task_a.class_names == tuple(n for i, n in enumerate(data.class_names) if i not in (0, 2))
    assert task_b.class_names == ("T-shirt/top", "Pullover")
    assert set(np.unique(task_a.y_train)) == set(range(8))
    assert set(np.unique(task_b.y_test)) == {0, 1}
    assert task_b.X_train.shape == (200, 784) and task_b.X_train.dtype == np.float32
    # Test split: every T-shirt and pullover of the official test set, nothing else.
    assert len(task_b.X_test) == int(np.isin(data.y_test, (0, 2)).sum()) == 2000
    assert len(task_a.X_test) == 8000
    # The relabelling keeps the classes apart: pullover (2) became 1.
    np.testing.assert_array_equal(task_b.y_test, (data.y_test[np.isin(data.y_test, (0, 2))] == 2))


def test_task_b_training_images_come_from_the_training_split_only(tasks):
    data = load_fashion_mnist(n_train=3000, seed=0)
    _, task_b = tasks
    train_rows = {row.tobytes() for row in data.X_train.reshape(len(data.X_train), -1)}
    assert all(row.tobytes() in train_rows for row in task_b.X_train)
    test_rows = {row.tobytes() for row in data.X_test.reshape(len(data.X_test), -1)}
    assert not any(row.tobytes() in test_rows for row in task_b.X_train)


def test_split_is_seeded(tasks):
    data = load_fashion_mnist(n_train=3000, seed=0)
    _, again = split_tasks(data, n_train_b=200, seed=3)
    _, other = split_tasks(data, n_train_b=200, seed=4)
    np.testing.assert_array_equal(tasks[1].X_train, again.X_train)
    assert not np.array_equal(tasks[1].X_train, other.X_train)


@pytest.mark.parametrize("bad", [0, 1, 10**6, 2.5])
def test_bad_task_b_size(bad):
    with pytest.raises(ValueError, match="n_train_b"):
        split_tasks(load_fashion_mnist(n_train=500), n_train_b=bad)


def _mlp(seed=0):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input(shape=(4,)), keras.layers.Dense(5, activation="relu"),
                             keras.layers.Dense(3, activation="softmax")])


def test_clone_with_weights_is_independent():
    model = _mlp()
    clone = clone_with_weights(model)
    for a, b in zip(model.get_weights(), clone.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert not any(a is b for a, b in zip(model.layers, clone.layers))
    before = [w.copy() for w in model.get_weights()]
    clone.compile(optimizer=keras.optimizers.SGD(1.0), loss="sparse_categorical_crossentropy")
    clone.fit(np.ones((8, 4)), np.zeros(8), epochs=2, verbose=0)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(TypeError, match="Keras model"):
        clone_with_weights("model")


def test_set_trainable_by_count_and_predicate_and_reminder():
    model = _mlp()
    assert set_trainable(model, False, first_n=1) == [model.layers[0].name]
    assert not model.layers[0].trainable and model.layers[1].trainable
    assert len(model.trainable_weights) == 2
    names = set_trainable(model, False, predicate=lambda layer: layer.units == 3)
    assert names == [model.layers[1].name] and not model.trainable_weights
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    with pytest.warns(RecompileWarning, match="compile"):
        set_trainable(model, True, first_n=2)
    assert len(model.trainable_weights) == 4
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        set_trainable(_mlp(), False, first_n=1)  # not compiled: no warning


def test_frozen_layers_do_not_train_after_recompiling():
    model = _mlp()
    set_trainable(model, False, first_n=1)
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss="sparse_categorical_crossentropy")
    frozen = model.layers[0].get_weights()[0].copy()
    model.fit(np.random.default_rng(0).normal(size=(16, 4)), np.zeros(16), epochs=2, verbose=0)
    np.testing.assert_array_equal(frozen, model.layers[0].get_weights()[0])


@pytest.mark.parametrize("kwargs", [{}, {"first_n": 1, "predicate": bool}, {"first_n": 5}])
def test_set_trainable_errors(kwargs):
    with pytest.raises(ValueError):
        set_trainable(_mlp(), False, **kwargs)


def test_combine_seed_results_compares_across_runs():
    first = run_over_seeds(lambda config, seed: seed * config, {"a": 0.1, "b": 0.3},
                           seed_list=[1, 2, 3])
    second = run_over_seeds(lambda config, seed: seed * config + 1.0, {"c": 0.2},
                            seed_list=[1, 2, 3])
    both = combine_seed_results(first, second)
    assert both.configs == ["a", "b", "c"] and both.seeds == (1, 2, 3)
    np.testing.assert_allclose(both.per_seed("c"), [1.2, 1.4, 1.6])
    # c - a, seed by seed: 1 + 0.1 * seed, so 1.1, 1.2, 1.3 (mean 1.2, SE 0.1 / sqrt(3)).
    difference = both.difference("c", "a")
    np.testing.assert_allclose(difference.differences, [1.1, 1.2, 1.3])
    np.testing.assert_allclose(difference.se, 0.1 / np.sqrt(3))


def test_combine_seed_results_errors():
    one = run_over_seeds(lambda config, seed: 1.0, ["a"], seed_list=[0, 1])
    other_seeds = run_over_seeds(lambda config, seed: 1.0, ["b"], seed_list=[0, 2])
    with pytest.raises(ValueError, match="same seeds"):
        combine_seed_results(one, other_seeds)
    with pytest.raises(ValueError, match="more than one"):
        combine_seed_results(one, one)
    with pytest.raises(ValueError, match="at least one"):
        combine_seed_results()
    with pytest.raises(TypeError, match="SeedResults"):
        combine_seed_results(one, {"b": [1.0, 1.0]})



# Discriminative learning rates and the frozen-BN pitfall (issue 19, ch06).
def _three_layers(seed=0):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input(shape=(5,)),
                             keras.layers.Dense(4, activation="relu", name="low"),
                             keras.layers.Dense(4, activation="relu", name="mid"),
                             keras.layers.Dense(2, name="top")])


def test_layerwise_adam_scales_each_group_update_with_its_rate():
    model = _three_layers()
    factors = {"low": 0.01, "mid": 0.1}
    optimizer = LayerwiseAdam(1e-2, rate_factors=factors)
    variables = model.trainable_variables
    rng = np.random.default_rng(0)
    steps = [[rng.normal(size=v.shape).astype("float32") for v in variables] for _ in range(3)]
    start = [v.numpy().copy() for v in variables]
    for grads in steps:
        optimizer.apply(grads, variables)
    # Reference: plain Adam at learning_rate * factor, one optimizer per group.
    for variable, first in zip(variables, start):
        layer = variable.path.split("/")[-2]
        reference = keras.Variable(first)
        plain = keras.optimizers.Adam(1e-2 * factors.get(layer, 1.0))
        index = [v.path for v in variables].index(variable.path)
        for grads in steps:
            plain.apply([grads[index]], [reference])
        np.testing.assert_allclose(variable.numpy(), reference.numpy(), rtol=1e-6, atol=1e-9)
    # Known values: Adam's first step moves every coordinate by learning_rate * factor
    # (up to epsilon), so each group's update is proportional to its rate.
    fresh = _three_layers(3)
    variables = fresh.trainable_variables
    start = [v.numpy().copy() for v in variables]
    LayerwiseAdam(1e-2, rate_factors=factors).apply(steps[0], variables)
    for variable, first in zip(variables, start):
        rate = 1e-2 * factors.get(variable.path.split("/")[-2], 1.0)
        np.testing.assert_allclose(np.abs(variable.numpy() - first), rate, rtol=1e-3)


def test_layerwise_adam_in_fit_matches_the_rates_and_serializes(tmp_path):
    model, reference = _three_layers(1), _three_layers(1)
    X = np.random.default_rng(1).normal(size=(16, 5)).astype("float32")
    y = np.random.default_rng(2).integers(0, 2, 16)
    model.compile(optimizer=LayerwiseAdam(1e-2, rate_factors={"low": 0.0 + 1e-9}),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    before = model.get_layer("low").get_weights()
    model.fit(X, y, epochs=2, batch_size=8, verbose=0)
    after = model.get_layer("low").get_weights()
    assert max(np.abs(a - b).max() for a, b in zip(after, before)) < 1e-9  # a tiny rate
    assert np.abs(model.get_layer("top").get_weights()[0]
                  - reference.get_layer("top").get_weights()[0]).max() > 1e-3
    config = model.optimizer.get_config()
    assert config["rate_factors"] == {"low": 1e-9}
    assert LayerwiseAdam.from_config(config).rate_factors == {"low": 1e-9}
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert isinstance(loaded.optimizer, LayerwiseAdam)


def test_layerwise_adam_errors():
    with pytest.raises(ValueError, match="positive learning-rate factor"):
        LayerwiseAdam(rate_factors={"low": 0.0})
    model = _three_layers()
    with pytest.raises(ValueError, match="no trainable variable"):
        LayerwiseAdam(rate_factors={"typo": 0.1}).build(model.trainable_variables)


def test_batch_norm_statistics_finds_nested_layers_and_copies():
    keras.utils.set_random_seed(0)
    base = keras.Sequential([keras.Input(shape=(3,)), keras.layers.BatchNormalization(name="bn")])
    model = keras.Sequential([keras.Input(shape=(3,)), base, keras.layers.Dense(1)])
    stats = batch_norm_statistics(model)
    assert list(stats) == ["bn"]
    np.testing.assert_array_equal(stats["bn"][0], np.zeros(3))
    np.testing.assert_array_equal(stats["bn"][1], np.ones(3))
    base.layers[0](np.full((4, 3), 5.0, "float32"), training=True)
    assert batch_norm_statistics(model)["bn"][0][0] > 0 and stats["bn"][0][0] == 0  # a copy
    with pytest.raises(TypeError, match="Keras model"):
        batch_norm_statistics("model")
