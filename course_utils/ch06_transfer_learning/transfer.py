"""Transfer learning helpers: the two Fashion-MNIST tasks, cloning, freezing,
and combining recipes run over the same seeds (see :mod:`course_utils.core.seeds`).

Task A: the eight classes other than T-shirt/top (0) and pullover (2),
relabelled 0 to 7. Task B: T-shirt/top (label 0) against pullover (label 1),
with only a few labelled training images. Task B's training images come from
the training split, its validation images from the validation split and its
test images from the test split, so nothing leaks between them.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable, Sequence

import keras
import numpy as np

from course_utils.core.data import FashionMNIST
from course_utils.core.seeds import SeedResults
from course_utils.core.validation import check_integer

__all__ = [
    "TaskSplit",
    "split_tasks",
    "clone_with_weights",
    "set_trainable",
    "RecompileWarning",
    "combine_seed_results",
    "LayerwiseAdam",
    "batch_norm_statistics",
]

TASK_B_CLASSES = (0, 2)  # T-shirt/top, pullover


@dataclasses.dataclass(frozen=True)
class TaskSplit:
    """Arrays of one task: flattened float32 images and integer labels."""

    X_train: np.ndarray
    y_train: np.ndarray
    X_valid: np.ndarray
    y_valid: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]


def _select(X, y, classes: Sequence[int]) -> tuple[np.ndarray, np.ndarray]:
    mask = np.isin(y, classes)
    lookup = {c: i for i, c in enumerate(classes)}
    labels = np.array([lookup[int(v)] for v in y[mask]], dtype=np.int64)
    return X[mask].reshape(int(mask.sum()), -1).astype(np.float32), labels


def split_tasks(data: FashionMNIST, n_train_b: int = 200,
                seed: int = 42) -> tuple[TaskSplit, TaskSplit]:
    """Builds task A (8 classes) and task B (T-shirt/top vs pullover).

    Args:
        data: the output of :func:`course_utils.load_fashion_mnist`.
        n_train_b: labelled training images of task B, drawn (with ``seed``)
            from the training split; balanced is not enforced, as in practice.
        seed: seed of that draw.

    Returns:
        ``(task_a, task_b)``, each a :class:`TaskSplit` with flattened images.

    Raises:
        ValueError: if ``n_train_b`` is not between 2 and the number of
            T-shirt and pullover images in the training split.
    """
    if not isinstance(data, FashionMNIST):
        raise TypeError(
            f"Expected the FashionMNIST returned by load_fashion_mnist. Received: "
            f"{type(data).__name__}")
    classes_a = tuple(c for c in range(10) if c not in TASK_B_CLASSES)
    splits_a = [_select(X, y, classes_a) for X, y in (data.train, data.valid, data.test)]
    splits_b = [_select(X, y, TASK_B_CLASSES) for X, y in (data.train, data.valid, data.test)]
    X_b, y_b = splits_b[0]
    n_train_b = check_integer("n_train_b", n_train_b, 2, len(X_b))
    index = np.sort(np.random.default_rng(seed).choice(len(X_b), size=n_train_b,
                                                        replace=False))
    splits_b[0] = (X_b[index], y_b[index])
    names = data.class_names
    task_a = TaskSplit(*splits_a[0], *splits_a[1], *splits_a[2],
                       class_names=tuple(names[c] for c in classes_a))
    task_b = TaskSplit(*splits_b[0], *splits_b[1], *splits_b[2],
                       class_names=tuple(names[c] for c in TASK_B_CLASSES))
    return task_a, task_b


def clone_with_weights(model: keras.Model) -> keras.Model:
    """An independent copy of ``model``: same architecture, same weights.

    ``keras.models.clone_model`` copies the architecture with *new* weights;
    reusing ``model.layers`` directly would *share* the layers, so training
    the new model would change the original. This does neither.
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"Expected a Keras model. Received: {type(model).__name__}")
    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    return clone


class RecompileWarning(UserWarning):
    """Changing ``trainable`` on a compiled model needs ``model.compile`` again."""


def set_trainable(model: keras.Model, trainable: bool, *, first_n: int | None = None,
                  predicate: Callable[[keras.layers.Layer], bool] | None = None) -> list[str]:
    """Freezes or unfreezes layers, by count or by a predicate.

    Args:
        model: a Keras model.
        trainable: the new value of ``layer.trainable``.
        first_n: change the first ``first_n`` layers (``model.layers``).
        predicate: change the layers for which ``predicate(layer)`` is true.
            Give exactly one of ``first_n`` and ``predicate``.

    Returns:
        The names of the layers changed.

    Warns:
        RecompileWarning: if the model is already compiled, because the change
            takes effect only after ``model.compile(...)`` is called again.
    """
    if (first_n is None) == (predicate is None):
        raise ValueError("Give exactly one of `first_n` and `predicate`.")
    layers = model.layers
    if first_n is not None:
        first_n = check_integer("first_n", first_n, 0, len(layers))  # the model's layers
        chosen = layers[:first_n]
    else:
        chosen = [layer for layer in layers if predicate(layer)]
    for layer in chosen:
        layer.trainable = bool(trainable)
    if getattr(model, "compiled", False) and chosen:
        warnings.warn(
            f"{'Unfroze' if trainable else 'Froze'} {len(chosen)} layer(s) of a compiled "
            "model: call model.compile(...) again for this to take effect.",
            RecompileWarning, stacklevel=2)
    return [layer.name for layer in chosen]


def combine_seed_results(*results: SeedResults) -> SeedResults:
    """Joins the configurations of several :class:`SeedResults` run on the same seeds.

    A page that runs some recipes in one section and another recipe later
    (with the same seeds) can then compare any two of them seed by seed with
    :meth:`SeedResults.difference`.

    Args:
        *results: the outputs of :func:`course_utils.run_over_seeds`, all with
            the same seeds in the same order and no configuration name twice.

    Returns:
        One :class:`SeedResults` with every configuration, in the order given.

    Raises:
        ValueError: if nothing is given, the seeds differ, or a configuration
            name appears in more than one of them.
    """
    if not results:
        raise ValueError("Expected at least one SeedResults to combine.")
    for item in results:
        if not isinstance(item, SeedResults):
            raise TypeError("Expected SeedResults (from run_over_seeds). "
                            f"Received: {type(item).__name__}")
    seeds = results[0].seeds
    values: dict = {}
    for item in results:
        if item.seeds != seeds:
            raise ValueError("Only results run on the same seeds can be compared seed by seed. "
                             f"Received seeds {list(seeds)} and {list(item.seeds)}")
        for name, metrics in item.values.items():
            if name in values:
                raise ValueError(f"Configuration {name!r} appears in more than one result.")
            values[name] = metrics
    return SeedResults(seeds, values)


@keras.saving.register_keras_serializable(package="course_utils")
class LayerwiseAdam(keras.optimizers.Adam):
    """Adam with one learning-rate factor per layer: discriminative learning rates.

    Every variable of the layer named ``name`` is updated with
    ``learning_rate * rate_factors[name]`` (a learning-rate schedule is
    followed too); variables of layers not named use the factor 1. Lower
    layers of a pretrained network typically get the smallest factors. Adam
    needs this per-variable rate: multiplying a layer's *gradients* by a
    factor would change nothing, because Adam divides each gradient by a
    running estimate of its own scale.

    Args:
        learning_rate: the base learning rate (a float or a schedule).
        rate_factors: layer name -> positive factor.
        **kwargs: any other argument of ``keras.optimizers.Adam``.

    Raises:
        ValueError: for a factor that is not a positive number, or (when the
            optimizer is built) a layer name that matches no variable.
    """

    def __init__(self, learning_rate=0.001, rate_factors=None, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        factors = dict(rate_factors or {})
        for name, factor in factors.items():
            if isinstance(factor, bool) or not isinstance(factor, (int, float, np.number)) \
                    or not np.isfinite(factor) or factor <= 0:
                raise ValueError(f"Expected a positive learning-rate factor for layer {name!r}. "
                                 f"Received: {factor!r}")
        self.rate_factors = {str(name): float(factor) for name, factor in factors.items()}
        self._factor_by_id: dict[int, float] = {}

    def _factor_for(self, variable) -> float:
        parts = variable.path.split("/")[:-1]
        matches = [self.rate_factors[p] for p in parts if p in self.rate_factors]
        return matches[-1] if matches else 1.0

    def build(self, var_list):
        super().build(var_list)
        used = set()
        for variable in var_list:
            factor = self._factor_for(variable)
            used.update(p for p in variable.path.split("/")[:-1] if p in self.rate_factors)
            self._factor_by_id[id(variable)] = factor
            inner = getattr(variable, "value", None)  # the backend's variable (TensorFlow)
            if inner is not None:
                self._factor_by_id[id(inner)] = factor
        unknown = sorted(set(self.rate_factors) - used)
        if unknown:
            raise ValueError(f"rate_factors names layers with no trainable variable: {unknown}. "
                             f"Variables: {[v.path for v in var_list]}")

    def update_step(self, gradient, variable, learning_rate):
        factor = self._factor_by_id.get(id(variable))
        if factor is None:
            raise ValueError(f"LayerwiseAdam was not built with variable {variable.name!r}.")
        return super().update_step(gradient, variable, learning_rate * factor)

    def get_config(self):
        config = super().get_config()
        config["rate_factors"] = dict(self.rate_factors)
        return config


def batch_norm_statistics(model: keras.Model) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Copies of the moving mean and variance of every BN layer in ``model``.

    Nested models are searched too, so a pretrained base inside a new model
    is covered.

    Args:
        model: a built Keras model.

    Returns:
        Layer name -> ``(moving_mean, moving_variance)``, NumPy copies.

    Raises:
        TypeError: if ``model`` is not a Keras model.
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"Expected a Keras model. Received: {type(model).__name__}")
    found: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def visit(layers):
        for layer in layers:
            if isinstance(layer, keras.layers.BatchNormalization):
                found[layer.name] = (np.array(layer.moving_mean.numpy()),
                                     np.array(layer.moving_variance.numpy()))
            elif hasattr(layer, "layers"):
                visit(layer.layers)

    visit(model.layers)
    return found
