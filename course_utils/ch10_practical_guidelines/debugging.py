"""Chapter 10: two checks to run before a long training run.

A classifier that has learned nothing should spread its probability evenly,
so its initial cross-entropy is close to ``ln(n_classes)``
(:func:`initial_loss`, :func:`chance_loss`). A model and training loop
without a bug can memorize one small batch: :func:`overfit_one_batch` trains
on the same batch until the model classifies it perfectly (or gives up), and
reports how many steps that took.
"""

from __future__ import annotations

import dataclasses
import math

import keras
import numpy as np

__all__ = ["chance_loss", "initial_loss", "OverfitResult", "overfit_one_batch"]


def chance_loss(n_classes: int) -> float:
    """The cross-entropy of a uniform guess among ``n_classes``: ``ln(n_classes)``.

    Raises:
        ValueError: if ``n_classes`` is not a whole number of at least 2.
    """
    if isinstance(n_classes, bool) or not isinstance(n_classes, (int, np.integer)) \
            or n_classes < 2:
        raise ValueError(f"Expected at least 2 classes. Received: n_classes={n_classes!r}")
    return math.log(int(n_classes))


def _check_batch(X, y) -> tuple[np.ndarray, np.ndarray]:
    X, y = np.asarray(X, dtype=np.float32), np.asarray(y)
    if X.ndim < 2 or len(X) == 0:
        raise ValueError(f"Expected a non-empty batch of inputs. Received: shape={X.shape}")
    if y.shape != (len(X),) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError("Expected one integer label per input. Received: labels of shape "
                         f"{y.shape} and dtype {y.dtype} for {len(X)} inputs.")
    return X, y


def initial_loss(model: keras.Model, X, y) -> float:
    """The mean cross-entropy of ``model`` on ``(X, y)``, in inference mode.

    Computed in float64 from the model's predicted probabilities (a softmax
    output), independently of how the model is compiled.

    Raises:
        ValueError: for an empty batch, labels that do not match it, or
            outputs that are not probabilities over the classes.
    """
    X, y = _check_batch(X, y)
    p = np.asarray(model(X, training=False), dtype=np.float64)
    if p.ndim != 2 or not np.allclose(p.sum(axis=1), 1.0, atol=1e-4) or y.max() >= p.shape[1]:
        raise ValueError("Expected the model to output one probability per class (softmax) "
                         f"for labels 0 to {p.shape[-1] - 1}. Received outputs of shape "
                         f"{p.shape} and labels up to {int(y.max())}.")
    return float(-np.mean(np.log(np.maximum(p[np.arange(len(y)), y], 1e-300))))


@dataclasses.dataclass(frozen=True)
class OverfitResult:
    """What :func:`overfit_one_batch` saw.

    Attributes:
        accuracy: the batch accuracy (inference mode) after each check.
        steps: the training steps taken when each accuracy was measured.
        reached: ``True`` if the accuracy reached the target.
    """

    accuracy: tuple[float, ...]
    steps: tuple[int, ...]
    reached: bool

    @property
    def final_accuracy(self) -> float:
        return self.accuracy[-1]

    @property
    def steps_taken(self) -> int:
        return self.steps[-1]


def overfit_one_batch(model: keras.Model, X, y, *, max_steps: int = 300,
                      target: float = 1.0, check_every: int = 10,
                      training: bool = False) -> OverfitResult:
    """Trains a compiled model on one batch, again and again, until it memorizes it.

    Every ``check_every`` steps the batch accuracy is measured; the loop
    stops when it reaches ``target`` or after ``max_steps`` steps. The steps
    between two checks run in one ``fit`` call (the batch repeated, not
    shuffled), so the compiled ``steps_per_execution`` applies.

    Args:
        model: a compiled Keras classifier with a softmax output.
        X: the batch of inputs.
        y: its integer labels.
        max_steps: the most training steps to take.
        target: the accuracy at which to stop, in (0, 1].
        check_every: training steps between two measurements.
        training: measure in training mode. By default the accuracy is
            measured in inference mode, but a batch normalization layer then
            uses its moving statistics, which lag behind the weights for the
            first few hundred steps; ``training=True`` measures the network
            as it is trained (batch statistics, and dropout if the model
            has any: a mild dropout still lets a batch be memorized, a
            strong one should be removed for this check).

    Returns:
        An :class:`OverfitResult`.

    Raises:
        ValueError: for an uncompiled model, a bad batch, or bad settings.
    """
    X, y = _check_batch(X, y)
    if getattr(model, "optimizer", None) is None:
        raise ValueError("Expected a compiled model; call model.compile(...) first.")
    for name, value in (("max_steps", max_steps), ("check_every", check_every)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"Expected {name} to be a positive int. Received: {value!r}")
    if not 0 < target <= 1:
        raise ValueError(f"Expected a target accuracy in (0, 1]. Received: target={target!r}")
    accuracies: list[float] = []
    steps: list[int] = []
    step = 0
    while step < max_steps:
        n = min(check_every, max_steps - step)
        model.fit(np.concatenate([X] * n), np.concatenate([y] * n), batch_size=len(X),
                  epochs=1, shuffle=False, verbose=0)
        step += n
        predicted = np.asarray(model(X, training=training)).argmax(axis=1)
        accuracies.append(float(np.mean(predicted == y)))
        steps.append(step)
        if accuracies[-1] >= target:
            break
    return OverfitResult(tuple(accuracies), tuple(steps), accuracies[-1] >= target)
