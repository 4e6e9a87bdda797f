"""Every variant of the stacked ablation network trains as a separate Keras model would."""

import keras
import numpy as np
import pytest

from course_utils import MLPVariant, ablate_over_seeds, variant_stack
from course_utils.ch10_practical_guidelines.ablation import StackedDense

VARIANTS = {
    "defaults": MLPVariant(dropout=0.0),
    "relu_glorot": MLPVariant(initializer="glorot_uniform", activation="relu", dropout=0.0),
    "no_batch_norm": MLPVariant(batch_norm=False, dropout=0.0),
}
DEPTH, UNITS = 3, 8


def _data(n=96, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6)).astype("float32")
    y = (X[:, 0] + X[:, 1] > 0).astype("int64") + (X[:, 2] > 0.5).astype("int64")
    return X, y


def _alone(variant, stack, index):
    """A plain Sequential model of one variant, with that variant's slice of the stack's weights."""
    dense = [layer for layer in stack.layers if isinstance(layer, StackedDense)]
    norms = [layer for layer in stack.layers if isinstance(layer, keras.layers.BatchNormalization)]
    model = keras.Sequential([keras.Input(shape=(6,))])
    for k in range(DEPTH):
        layer = keras.layers.Dense(UNITS)
        model.add(layer)
        layer.set_weights([w[index] for w in dense[k].get_weights()])
        if variant.batch_norm:
            bn = keras.layers.BatchNormalization()
            model.add(bn)
            part = slice(index * UNITS, (index + 1) * UNITS)
            bn.set_weights([w[part] for w in norms[k].get_weights()])
        model.add(keras.layers.Activation(variant.activation))
    output = keras.layers.Dense(3, activation="softmax")
    model.add(output)
    output.set_weights([w[index] for w in dense[DEPTH].get_weights()])
    return model


# With SGD the two networks agree in inference mode, moving averages included. With
# Adam or Nadam, the bias of a Dense layer followed by BN has a gradient that is pure
# float32 noise (BN removes any shift), which the optimizer's normalization turns into
# steps of size lr: the biases (and with them BN's moving means) drift differently,
# while the function in training mode, which the bias cannot change, stays the same.
@pytest.mark.parametrize("make_optimizer, training", [
    (lambda: keras.optimizers.Nadam(learning_rate=0.01), True),
    (lambda: keras.optimizers.SGD(learning_rate=0.05, momentum=0.9), False),
])
def test_each_variant_trains_exactly_as_it_would_alone(make_optimizer, training):
    X, y = _data()
    keras.utils.set_random_seed(4)
    stack = variant_stack(VARIANTS, (6,), depth=DEPTH, units=UNITS, n_classes=3)
    alone = {name: _alone(v, stack, i) for i, (name, v) in enumerate(VARIANTS.items())}
    stack.compile(optimizer=make_optimizer(),
                  loss={name: "sparse_categorical_crossentropy" for name in VARIANTS})
    stack.fit(X, {name: y for name in VARIANTS}, epochs=3, batch_size=16, shuffle=False,
              verbose=0)
    trained = stack(X, training=training)
    for name, model in alone.items():
        model.compile(optimizer=make_optimizer(), loss="sparse_categorical_crossentropy")
        model.fit(X, y, epochs=3, batch_size=16, shuffle=False, verbose=0)
        np.testing.assert_allclose(trained[name], model(X, training=training),
                                   rtol=1e-4, atol=1e-5)


def _first_kernel(stack):
    return next(layer for layer in stack.layers if isinstance(layer, StackedDense)).kernel.numpy()


def test_same_initializer_same_start_and_the_seed_matters():
    keras.utils.set_random_seed(0)
    kernel = _first_kernel(variant_stack(VARIANTS, (6,), depth=DEPTH, units=UNITS))
    np.testing.assert_array_equal(kernel[0], kernel[2])  # both He normal
    assert not np.allclose(kernel[0], kernel[1])  # Glorot uniform draws its own
    # He normal (truncated): std sqrt(2 / fan_in) before truncation.
    assert 0.5 < kernel[0].std() / np.sqrt(2 / 6) < 1.1
    keras.utils.set_random_seed(1)
    other = _first_kernel(variant_stack(VARIANTS, (6,), depth=DEPTH, units=UNITS))
    assert not np.allclose(kernel, other)


def test_dropout_acts_only_on_the_variants_that_have_it():
    variants = {"with": MLPVariant(dropout=0.5), "without": MLPVariant(dropout=0.0)}
    keras.utils.set_random_seed(0)
    stack = variant_stack(variants, (6,), depth=1, units=64)
    X = np.ones((256, 6), dtype="float32")
    train_a, train_b = stack(X, training=True), stack(X, training=True)
    infer_a, infer_b = stack(X, training=False), stack(X, training=False)
    np.testing.assert_allclose(train_a["without"], train_b["without"], rtol=1e-6)
    assert not np.allclose(train_a["with"], train_b["with"])
    np.testing.assert_allclose(infer_a["with"], infer_b["with"], rtol=1e-6)


def test_over_seeds_pairs_the_variants():
    X, y = _data()
    results = ablate_over_seeds(
        VARIANTS, X, y, depth=DEPTH, units=UNITS, n_classes=3, n_seeds=2,
        summarize=lambda run: {"loss": run.history["loss"][-1],
                               "outputs": int(run.model.output.shape[-1])},
        optimizer=lambda: keras.optimizers.Adam(0.01), epochs=2, batch_size=32)
    assert list(results.configs) == list(VARIANTS)
    assert list(results.per_seed("defaults", "outputs")) == [3, 3]
    losses = results.per_seed("defaults", "loss")
    assert losses[0] != losses[1]


@pytest.mark.parametrize("kwargs, message", [
    ({"variants": {}}, "non-empty mapping"),
    ({"variants": {"a b": MLPVariant()}}, "identifier"),
    ({"variants": {"a": {"dropout": 0.1}}}, "must be an MLPVariant"),
    ({"depth": 0}, "depth"),
])
def test_bad_arguments_are_explained(kwargs, message):
    arguments = {"variants": VARIANTS, "input_shape": (6,), "depth": 2, "units": 4} | kwargs
    with pytest.raises(ValueError, match=message):
        variant_stack(**arguments)


@pytest.mark.parametrize("kwargs, message", [
    ({"activation": "no_such_activation"}, "no_such_activation"),
    ({"initializer": "no_such_init"}, "no_such_init"),
    ({"dropout": 1.0}, r"dropout. to be a number in \[0, 1\)"),
    ({"dropout": -0.1}, "dropout"),
])
def test_bad_variants_are_explained(kwargs, message):
    with pytest.raises(ValueError, match=message):
        MLPVariant(**kwargs)
