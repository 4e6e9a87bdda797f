"""Chapter 10: an ablation of the default MLP, with every variant in one network.

An ablation trains the default configuration and variants that each change
one part of it, over several seeds. Built as separate Keras models (or as the
towers of :func:`course_utils.train_side_by_side`), every variant pays for
tracing its own training step: on a CPU, several seconds for a deep network
with batch normalization and Nadam. :func:`variant_stack` builds all the
variants as *one* network whose every layer carries a variant axis:

- ``StackedDense`` holds one kernel per variant, shape ``(variants, in, out)``,
  and multiplies each variant's activations by its own kernel;
- batch normalization runs on the flattened ``(batch, variants * units)``
  features, so each variant's unit has its own batch statistics, ``gamma``,
  ``beta`` and moving averages, exactly as in a separate model; a variant
  without it takes the layer's input instead (``where``), so no gradient
  reaches its unused ``gamma`` and ``beta``;
- the activation and the dropout are chosen per variant the same way.

The variants share no weight and the loss is the sum of their losses, so with
an optimizer that updates each weight from its own gradient (Adam, Nadam,
SGD; not ``global_clipnorm``) each variant follows the path it would follow
alone. The graph is traced once, whatever the number of variants.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence

import keras
import numpy as np
from keras import ops

from course_utils.core.seeds import SeedResults
from course_utils.core.side_by_side import TowerRun, outputs_over_seeds
from course_utils.core.validation import check_integer, check_number

__all__ = ["MLPVariant", "variant_stack", "ablate_over_seeds"]


@dataclasses.dataclass(frozen=True)
class MLPVariant:
    """One configuration of a plain MLP: what each hidden layer is made of.

    Attributes:
        initializer: the kernel initializer of every Dense layer (a Keras name).
        activation: the hidden layers' activation (a Keras name).
        batch_norm: a BatchNormalization layer between each Dense layer and
            its activation.
        dropout: the rate of a Dropout layer before the output layer (0: none).
    """

    initializer: str = "he_normal"
    activation: str = "swish"
    batch_norm: bool = True
    dropout: float = 0.2

    def __post_init__(self):
        for name in ("initializer", "activation"):
            value = getattr(self, name)
            if not isinstance(value, str):
                raise ValueError(f"`{name}` must be a Keras name (a string); received {value!r}.")
        keras.initializers.get(self.initializer)
        keras.activations.get(self.activation)
        check_number("dropout", self.dropout, 0.0, 1.0)  # in [0, 1): 1 would drop everything


class StackedDense(keras.layers.Layer):
    """A Dense layer per variant: ``(batch, variants, in) -> (batch, variants, units)``.

    Each variant's kernel is drawn with its own initializer, from one seed per
    layer, so variants with the same initializer start from the same weights.
    On the first layer, whose input ``(batch, in)`` is the same for every
    variant, the kernels are applied as one matrix product.
    """

    def __init__(self, units: int, initializers: Sequence[str], seed: int, **kwargs):
        super().__init__(**kwargs)
        self.units, self.initializers, self.seed = units, tuple(initializers), seed

    def build(self, input_shape):
        fan_in = input_shape[-1]

        def draw(shape, dtype=None):
            return ops.stack([keras.initializers.get(
                {"class_name": name, "config": {"seed": self.seed}})((fan_in, self.units), dtype)
                for name in self.initializers])

        self.kernel = self.add_weight(shape=(len(self.initializers), fan_in, self.units),
                                      initializer=draw, name="kernel")
        self.bias = self.add_weight(shape=(len(self.initializers), self.units),
                                    initializer="zeros", name="bias")

    def call(self, x):
        if len(x.shape) == 2:  # the shared input: one product with all the kernels side by side
            n, fan_in, units = self.kernel.shape
            side_by_side = ops.reshape(ops.transpose(self.kernel, (1, 0, 2)), (fan_in, n * units))
            return ops.reshape(ops.matmul(x, side_by_side), (-1, n, units)) + self.bias
        # One batched product per variant, (variants, batch, in) @ (variants, in, units); on a
        # CPU it runs faster than the equivalent einsum "bvi,vio->bvo".
        by_variant = ops.matmul(ops.transpose(x, (1, 0, 2)), self.kernel)
        return ops.transpose(by_variant, (1, 0, 2)) + self.bias


def _per_variant(flags: Sequence[bool]) -> np.ndarray:
    """A (1, variants, 1) mask that selects, variant by variant, one of two tensors."""
    return np.asarray(flags, dtype=bool).reshape(1, -1, 1)


def variant_stack(variants: Mapping[str, MLPVariant], input_shape: Sequence[int], *,
                  depth: int, units: int, n_classes: int = 10) -> keras.Model:
    """Builds every variant of an MLP as one Keras model with one output per variant.

    Each variant is ``depth`` hidden layers of ``units`` (Dense, then batch
    normalization if the variant has it, then its activation), then its
    dropout, then a softmax layer of ``n_classes``. The initial weights come
    from the current Keras seed.

    Args:
        variants: name -> :class:`MLPVariant`; the names (Python identifiers)
            name the outputs, the losses and the logs.
        input_shape: the shape of one example (flattened inside).
        depth: number of hidden layers.
        units: units per hidden layer.
        n_classes: units of the softmax output layer.

    Returns:
        A :class:`keras.Model` whose outputs are a dict keyed by variant name.
    """
    if not isinstance(variants, Mapping) or not variants:
        raise ValueError(f"`variants` must be a non-empty mapping name -> MLPVariant; "
                         f"received {variants!r}.")
    for name, variant in variants.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError(f"Each variant name must be a Python identifier; received {name!r}.")
        if not isinstance(variant, MLPVariant):
            raise ValueError(f"Variant {name!r} must be an MLPVariant; received "
                             f"{type(variant).__name__}.")
    depth = check_integer("depth", depth, low=1)
    units = check_integer("units", units, low=1)
    n_classes = check_integer("n_classes", n_classes, low=2)
    configs = list(variants.values())
    initializers = [v.initializer for v in configs]
    seeds = np.random.randint(0, 2**31 - 1, size=depth + 1)  # keras.utils.set_random_seed sets it
    n = len(configs)

    inputs = keras.Input(shape=tuple(input_shape))
    x = keras.layers.Flatten()(inputs)
    use_bn = _per_variant([v.batch_norm for v in configs])
    for layer in range(depth):
        x = StackedDense(units, initializers, int(seeds[layer]))(x)
        if use_bn.any():
            flat = keras.layers.Reshape((n * units,))(x)
            normalized = keras.layers.Reshape((n, units))(keras.layers.BatchNormalization()(flat))
            x = keras.layers.Lambda(lambda pair: ops.where(use_bn, *pair))([normalized, x])
        x = _select(x, [v.activation for v in configs],
                    lambda name: keras.layers.Activation(name))
    x = _select(x, [v.dropout for v in configs],
                lambda rate: keras.layers.Dropout(rate) if rate else keras.layers.Identity())
    logits = StackedDense(n_classes, initializers, int(seeds[depth]))(x)
    probabilities = keras.layers.Softmax()(logits)
    outputs = {name: keras.layers.Lambda(lambda p, i=i: p[:, i, :], name=name)(probabilities)
               for i, name in enumerate(variants)}
    return keras.Model(inputs, outputs)


def _select(x, choices: Sequence, make_layer: Callable):
    """Applies, variant by variant, the layer its choice names (one layer per distinct choice)."""
    distinct = list(dict.fromkeys(choices))
    result = make_layer(distinct[0])(x)
    for choice in distinct[1:]:
        mask = _per_variant([c == choice for c in choices])
        result = keras.layers.Lambda(lambda pair, m=mask: ops.where(m, *pair))(
            [make_layer(choice)(x), result])
    return result


def ablate_over_seeds(variants: Mapping[str, MLPVariant], X: np.ndarray, y: np.ndarray, *,
                      depth: int, units: int,
                      summarize: Callable[[TowerRun], Mapping[str, float]],
                      optimizer: Callable[[], keras.optimizers.Optimizer],
                      n_classes: int = 10, n_seeds: int = 3, start: int = 0,
                      **train_kwargs) -> SeedResults:
    """Trains every variant with one ``fit`` per seed and collects a summary of each.

    Args:
        variants: name -> :class:`MLPVariant`.
        X: training inputs.
        y: integer training labels.
        depth: hidden layers of every variant.
        units: units per hidden layer.
        summarize: maps one variant's :class:`course_utils.TowerRun` (its
            history and its trained network alone) to the numbers to keep.
        optimizer: returns a new optimizer; it must update each weight from
            its own gradient (no ``global_clipnorm``).
        n_classes: the number of classes (labels 0 to ``n_classes - 1``).
        n_seeds: number of seeds (shifted by ``COURSE_SEED``).
        start: the first base seed.
        **train_kwargs: ``epochs``, ``batch_size``, ``validation_data``,
            ``steps_per_execution``, ``jit_compile`` and other options of
            :func:`course_utils.train_side_by_side`.

    Returns:
        A :class:`course_utils.SeedResults`, paired seed by seed, with one
        configuration per variant.
    """
    X = np.asarray(X)

    def make_model(seed: int) -> keras.Model:
        return variant_stack(variants, X.shape[1:], depth=depth, units=units,
                             n_classes=n_classes)

    return outputs_over_seeds(make_model, X, y, summarize=summarize, n_seeds=n_seeds,
                              start=start, optimizer=optimizer, **train_kwargs)
