"""Keras layers for activations that Keras lacks, and a dead-unit counter.

* :class:`Mish`: ``z * tanh(softplus(z))`` as a layer (Keras has the function
  ``keras.activations.mish`` but no layer, which some model builders expect).
* :class:`Swish`: ``z * sigmoid(beta z)`` with a learnable ``beta``.
* :class:`RReLU`: a leaky ReLU whose negative slopes are random in training
  and equal to their mean at inference.
* :func:`dead_unit_fraction`: the fraction of units of each Dense layer whose
  pre-activation is never positive on a data set ("dead" ReLUs); it reads
  the layers' inputs with :func:`course_utils.core.keras_probing.layer_probe`.

All layers are registered with ``keras.saving`` under the package
``course_utils``, so models that use them save to and load from ``.keras``
files. The NumPy references they are tested against are in
:mod:`course_utils.ch03_activations.activations`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import keras
import numpy as np
from keras import ops

from course_utils.core.keras_probing import layer_probe
from course_utils.core.validation import check_batch, check_integer, check_number

__all__ = ["Mish", "Swish", "RReLU", "dead_unit_fraction"]


@keras.saving.register_keras_serializable(package="course_utils")
class Mish(keras.layers.Layer):
    """Mish activation layer (Misra, 2020): ``z * tanh(softplus(z))``.

    Smooth, unbounded above, bounded below (minimum about -0.31) and not
    monotonic. Has no weights.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs):
        return inputs * ops.tanh(ops.softplus(inputs))

    def compute_output_shape(self, input_shape):
        return input_shape


@keras.saving.register_keras_serializable(package="course_utils")
class Swish(keras.layers.Layer):
    """Swish activation layer (Ramachandran et al., 2017): ``z * sigmoid(beta z)``.

    ``beta`` is one scalar weight shared by all units. With ``beta = 1`` and
    ``trainable_beta=False`` this is the SiLU (``keras.activations.silu``).

    Args:
        beta: initial value of ``beta``.
        trainable_beta: whether training updates ``beta``.
        **kwargs: standard layer arguments (``name``, ``dtype``...).

    Raises:
        ValueError: if ``beta`` is not a finite number.
    """

    def __init__(self, beta: float = 1.0, trainable_beta: bool = True, **kwargs):
        super().__init__(**kwargs)
        self.initial_beta = check_number("beta", beta)
        self.trainable_beta = bool(trainable_beta)
        self.supports_masking = True

    def build(self, input_shape):
        self.beta = self.add_weight(
            name="beta",
            shape=(),
            initializer=keras.initializers.Constant(self.initial_beta),
            trainable=self.trainable_beta,
        )

    def call(self, inputs):
        beta = ops.cast(self.beta, inputs.dtype)
        return inputs * ops.sigmoid(beta * inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"beta": self.initial_beta, "trainable_beta": self.trainable_beta})
        return config


@keras.saving.register_keras_serializable(package="course_utils")
class RReLU(keras.layers.Layer):
    """Randomized leaky ReLU (Xu et al., 2015).

    Positive inputs pass unchanged. In training, each negative input is
    multiplied by its own slope drawn uniformly from ``[lower, upper]`` (a new
    draw at every call); at inference, by the mean slope
    ``(lower + upper) / 2``, so predictions are deterministic.

    Args:
        lower, upper: range of the random slopes, ``0 <= lower <= upper``.
            The defaults 1/8 and 1/3 are those of Xu et al.
        seed: seed of the slopes' random generator.
        **kwargs: standard layer arguments.

    Raises:
        ValueError: if the range is invalid.
    """

    def __init__(self, lower: float = 1 / 8, upper: float = 1 / 3, seed: int | None = None,
                 **kwargs):
        super().__init__(**kwargs)
        numbers = all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool)
                      for v in (lower, upper))
        if not numbers or not (0 <= lower <= upper < math.inf):
            raise ValueError(
                "Expected 0 <= lower <= upper for the RReLU slopes. "
                f"Received: lower={lower!r}, upper={upper!r}"
            )
        self.lower, self.upper, self.seed = float(lower), float(upper), seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True
        self.built = True

    @property
    def mean_slope(self) -> float:
        """The slope used at inference, ``(lower + upper) / 2``."""
        return 0.5 * (self.lower + self.upper)

    def call(self, inputs, training=False):
        if training:
            slope = keras.random.uniform(ops.shape(inputs), minval=self.lower,
                                         maxval=self.upper, dtype=inputs.dtype,
                                         seed=self.seed_generator)
        else:
            slope = ops.cast(self.mean_slope, inputs.dtype)
        return ops.where(inputs >= 0, inputs, slope * inputs)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"lower": self.lower, "upper": self.upper, "seed": self.seed})
        return config


def _dense_layers(model: keras.Model) -> list[keras.layers.Layer]:
    return [layer for layer in model.layers
            if getattr(layer, "kernel", None) is not None and len(layer.kernel.shape) == 2]


def dead_unit_fraction(
    model: keras.Model,
    X,
    *,
    layer_names: Sequence[str] | None = None,
    batch_size: int = 1024,
) -> dict[str, float]:
    """The fraction of dead units in each Dense layer of a model.

    A unit is *dead* on a data set when its pre-activation
    ``z = x W + b`` is ``<= 0`` for every example: a ReLU unit then outputs 0
    and receives no gradient, whatever the example, and cannot recover.
    (A leaky ReLU unit in the same state still gets a gradient of slope
    ``alpha`` and can recover; it is counted the same way, so the two can be
    compared.) The model is not changed and runs in inference mode.

    Args:
        model: a built Sequential or functional model.
        X: the inputs to test, shape ``(n, ...)``; a few thousand examples
            make "never active" meaningful.
        layer_names: the Dense layers to inspect. By default every Dense
            layer except the last one (the output layer).
        batch_size: examples per forward pass.

    Returns:
        Layer name -> fraction of its units that are dead, in model order.

    Raises:
        ValueError: for an empty batch, an unknown layer name, a layer that
            is not Dense-like, or a model without hidden Dense layers.
    """
    X = check_batch(X, np.float32)
    batch_size = check_integer("batch_size", batch_size, 1)
    dense = _dense_layers(model)
    if layer_names is None:
        layers = dense[:-1]
        if not layers:
            raise ValueError(
                "Expected a model with at least one hidden Dense layer. Received a "
                f"model with layers {[layer.name for layer in model.layers]}."
            )
    else:
        by_name = {layer.name: layer for layer in model.layers}
        unknown = [name for name in layer_names if name not in by_name]
        if unknown:
            raise ValueError(f"Unknown layer names {unknown}. The model has {list(by_name)}.")
        layers = [by_name[name] for name in layer_names]
        not_dense = [layer.name for layer in layers if layer not in dense]
        if not_dense:
            raise ValueError(
                f"Expected Dense layers (a 2D kernel). Received: layers {not_dense}"
            )

    alive = {layer.name: np.zeros(layer.kernel.shape[1], dtype=bool) for layer in layers}
    layer_inputs = layer_probe(model, layers, which="input")
    for start in range(0, len(X), batch_size):
        batch_inputs = layer_inputs(X[start:start + batch_size])
        for layer, x in zip(layers, batch_inputs):
            z = x.reshape(-1, x.shape[-1]) @ layer.kernel.numpy()
            if getattr(layer, "bias", None) is not None:
                z = z + layer.bias.numpy()
            if not np.all(np.isfinite(z)):
                raise ValueError(
                    f"Expected finite pre-activations in layer {layer.name!r}. Received "
                    "NaN or infinite values: the weights are not finite (did training "
                    "diverge?), so dead units cannot be told apart from broken ones."
                )
            alive[layer.name] |= np.any(z > 0, axis=0)
    return {name: float(1.0 - mask.mean()) for name, mask in alive.items()}
