"""Towers trained side by side follow the paths they would follow alone."""

import keras
import numpy as np
import pytest

from course_utils import side_by_side_over_seeds, train_side_by_side
from course_utils.core.side_by_side import side_by_side_model


def _dense_tower(units, activation):
    def build(x):
        x = keras.layers.Dense(units, activation=activation)(x)
        return keras.layers.Dense(3, activation="softmax")(x)
    return build


def _towers():
    return {"narrow_tanh": _dense_tower(4, "tanh"), "wide_relu": _dense_tower(16, "relu")}


def _data(n=96, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 5)).astype("float32")
    y = (X[:, 0] > 0).astype("int64") + (X[:, 1] > 0.5).astype("int64")
    return X, y


@pytest.mark.parametrize("make_optimizer", [
    lambda: keras.optimizers.Adam(learning_rate=0.05),
    lambda: keras.optimizers.SGD(learning_rate=0.1, momentum=0.9, clipnorm=0.5),
])
def test_each_tower_trains_exactly_as_it_would_alone(make_optimizer):
    X, y = _data()
    keras.utils.set_random_seed(3)
    initial = side_by_side_model(_towers(), X.shape[1:])
    keras.utils.set_random_seed(3)
    trained, histories = train_side_by_side(_towers(), X, y, optimizer=make_optimizer,
                                            epochs=3, batch_size=16, shuffle=False)
    for name in _towers():
        # The same tower alone: the sub-graph of the untrained model, cloned with its weights.
        alone_graph = keras.Model(initial.input, initial.get_layer(name).output)
        alone = keras.models.clone_model(alone_graph)
        alone.set_weights(alone_graph.get_weights())
        alone.compile(optimizer=make_optimizer(), loss="sparse_categorical_crossentropy")
        history = alone.fit(X, y, epochs=3, batch_size=16, shuffle=False, verbose=0).history
        side = keras.Model(trained.input, trained.get_layer(name).output)
        for w_side, w_alone in zip(side.get_weights(), alone.get_weights(), strict=True):
            np.testing.assert_allclose(w_side, w_alone, rtol=1e-4, atol=1e-5)
        np.testing.assert_allclose(histories[name]["loss"], history["loss"], rtol=1e-4)
        assert set(histories[name]) == {"loss", "accuracy"}


def test_validation_logs_are_split_per_tower():
    X, y = _data()
    keras.utils.set_random_seed(0)
    _, histories = train_side_by_side(_towers(), X, y, optimizer=keras.optimizers.Adam,
                                      epochs=2, validation_data=_data(32, seed=1))
    assert set(histories) == {"narrow_tanh", "wide_relu"}
    for logs in histories.values():
        assert set(logs) == {"loss", "accuracy", "val_loss", "val_accuracy"}
        assert all(len(v) == 2 for v in logs.values())
    assert histories["narrow_tanh"]["val_loss"] != histories["wide_relu"]["val_loss"]


def test_a_single_tower_keeps_its_logs():
    X, y = _data()
    keras.utils.set_random_seed(0)
    _, histories = train_side_by_side({"only": _dense_tower(4, "relu")}, X, y,
                                      optimizer=keras.optimizers.Adam, epochs=2,
                                      validation_data=_data(32, seed=1))
    assert set(histories["only"]) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == 2 for v in histories["only"].values())


def test_shared_layers_are_refused():
    shared = keras.layers.Dense(3)
    towers = {"a": lambda x: shared(x), "b": lambda x: shared(x)}
    with pytest.raises(ValueError, match="share weights"):
        side_by_side_model(towers, (5,))


def test_global_clipnorm_is_refused():
    X, y = _data()
    with pytest.raises(ValueError, match="global_clipnorm"):
        train_side_by_side(_towers(), X, y,
                           optimizer=lambda: keras.optimizers.SGD(global_clipnorm=1.0))


@pytest.mark.parametrize("towers", [{}, {"not a name": _dense_tower(2, "relu")}, {"a": 3}, [1]])
def test_bad_towers_are_explained(towers):
    with pytest.raises(ValueError, match="tower|Tower"):
        side_by_side_model(towers, (5,))


def test_over_seeds_pairs_the_towers_and_depends_on_the_seed():
    X, y = _data()

    def summarize(run):
        return {"loss": run.history["loss"][-1]}

    kwargs = dict(summarize=summarize, n_seeds=2, optimizer=keras.optimizers.Adam, epochs=1)
    first = side_by_side_over_seeds(_towers, X, y, **kwargs)
    again = side_by_side_over_seeds(_towers, X, y, **kwargs)
    shifted = side_by_side_over_seeds(_towers, X, y, start=5, **kwargs)
    assert first.configs == ["narrow_tanh", "wide_relu"]
    assert len(first.seeds) == 2
    assert first.values == again.values
    assert first.per_seed("wide_relu", "loss") != shifted.per_seed("wide_relu", "loss")


def test_over_seeds_reuses_one_model_but_matches_fresh_runs():
    """The reused, re-initialized model gives each seed the run of a fresh model."""
    from course_utils import seed_range

    X, y = _data()
    validation = _data(32, seed=1)

    def summarize(run):
        # The tower alone, evaluated in NumPy: its accuracy on the validation set.
        X_valid, y_valid = validation
        accuracy = float(np.mean(np.argmax(run.model.predict(X_valid, verbose=0), axis=1)
                                 == y_valid))
        return {"loss": run.history["loss"][-1], "val_accuracy": run.history["val_accuracy"][-1],
                "accuracy_by_hand": accuracy, "name_length": len(run.name), "seed": run.seed}

    results = side_by_side_over_seeds(_towers, X, y, summarize=summarize, n_seeds=3,
                                      optimizer=keras.optimizers.Adam, epochs=2,
                                      validation_data=validation)
    for i, seed in enumerate(seed_range(3)):
        keras.utils.set_random_seed(seed)
        _, histories = train_side_by_side(_towers(), X, y, optimizer=keras.optimizers.Adam,
                                          epochs=2, validation_data=validation)
        for name, history in histories.items():
            np.testing.assert_allclose(results.per_seed(name, "loss")[i], history["loss"][-1],
                                       rtol=1e-5)
            assert results.per_seed(name, "val_accuracy")[i] == history["val_accuracy"][-1]
            assert results.per_seed(name, "name_length")[i] == len(name)
            assert results.per_seed(name, "seed")[i] == seed
            np.testing.assert_allclose(results.per_seed(name, "accuracy_by_hand")[i],
                                       history["val_accuracy"][-1], atol=1e-6)


def test_mlp_tower_builds_the_stack_it_names():
    from course_utils import mlp_tower

    inputs = keras.Input(shape=(7,))
    model = keras.Model(inputs, mlp_tower("selu", "lecun_normal", depth=3, units=5,
                                          n_classes=4)(inputs))
    dense = [layer for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    assert [layer.units for layer in dense] == [5, 5, 5, 4]
    assert [layer.activation.__name__ for layer in dense] == ["selu"] * 3 + ["softmax"]
    assert all(type(layer.kernel_initializer).__name__ == "LecunNormal" for layer in dense[:3])
    assert model.count_params() == (7 * 5 + 5) + 2 * (5 * 5 + 5) + (5 * 4 + 4)


@pytest.mark.parametrize("bad", [0, -1, 2.0, True, "3"])
def test_mlp_tower_rejects_a_bad_depth(bad):
    from course_utils import mlp_tower

    with pytest.raises(ValueError,
                       match=r"Expected `depth` to be a whole number >= 1. Received: depth="):
        mlp_tower("relu", "he_normal", depth=bad, units=4)


def test_same_start_gives_every_tower_the_run_of_a_model_built_alone():
    """With same_start, identical towers agree, and each equals the model built alone."""
    from course_utils import seed_range

    X, y = _data()

    def make_towers():
        return {"first": _dense_tower(8, "relu"), "second": _dense_tower(8, "relu")}

    def summarize(run):
        return {"loss": run.history["loss"][-1]}

    results = side_by_side_over_seeds(make_towers, X, y, summarize=summarize, n_seeds=2,
                                      same_start=True, optimizer=keras.optimizers.Adam, epochs=2)
    assert results.per_seed("first", "loss") == results.per_seed("second", "loss")
    for i, seed in enumerate(seed_range(2)):
        keras.utils.set_random_seed(seed)
        inputs = keras.Input(shape=(5,))
        alone = keras.Model(inputs, _dense_tower(8, "relu")(inputs))
        alone.compile(optimizer=keras.optimizers.Adam(), loss="sparse_categorical_crossentropy")
        history = alone.fit(X, y, epochs=2, verbose=0).history
        np.testing.assert_allclose(results.per_seed("second", "loss")[i], history["loss"][-1],
                                   rtol=1e-5)
    different = side_by_side_over_seeds(make_towers, X, y, summarize=summarize, n_seeds=2,
                                        optimizer=keras.optimizers.Adam, epochs=2)
    assert different.per_seed("first", "loss") != different.per_seed("second", "loss")
