"""Train the same architecture again with new weights, without tracing it again.

On a CPU, the first ``fit`` of a deep Keras model spends seconds tracing its
training step (a 12-layer network with batch normalization and Nadam: about
7 s, more than 800 steps of training), and every new model pays it again.
An experiment repeated over seeds builds the same architecture each time,
so it can keep one compiled model and only give it a new start:

- the weights, batch-normalization statistics and dropout seed states of a
  model freshly built after setting the seed;
- the optimizer's variables (step count, moments, and so the learning-rate
  schedule) as they were before its first step.

:func:`compiled_once` wraps a model builder that way. The model it returns
trains exactly as the freshly built one would (a unit test checks it), but
it is always the same object: copy what you need from it (``get_weights``)
before the next call.
"""

from __future__ import annotations

from collections.abc import Callable

import keras

__all__ = ["compiled_once"]


def _ready(model: keras.Model, caller: str, *, build_optimizer: bool = True) -> keras.Model:
    if not isinstance(model, keras.Model):
        raise TypeError(f"`{caller}` must return a keras.Model; received "
                        f"{type(model).__name__}.")
    if getattr(model, "optimizer", None) is None:
        raise ValueError(f"`{caller}` must return a compiled model (call model.compile(...) "
                         "before returning it).")
    if not model.built:
        raise ValueError(f"`{caller}` must return a built model (start it with keras.Input).")
    if build_optimizer:
        model.optimizer.build(model.trainable_variables)
    return model


def restart(model: keras.Model, fresh: keras.Model, optimizer_start: list) -> None:
    """Gives ``model`` the start of ``fresh``, a model of the same architecture.

    Copies every variable of ``fresh`` (weights, moving statistics, seed
    generator states) into ``model`` and sets the optimizer's variables back
    to ``optimizer_start``, their values before the first step.

    Raises:
        ValueError: if the two models' variables do not match one to one.
    """
    mine, theirs = model.variables, fresh.variables
    shapes = [tuple(v.shape) for v in mine]
    if shapes != [tuple(v.shape) for v in theirs]:
        raise ValueError("The builder returned a model whose variables differ from the first "
                         f"model's ({len(theirs)} variables instead of {len(mine)}, or other "
                         "shapes): it must build the same architecture on every call.")
    for variable, value in zip(mine, theirs, strict=True):
        variable.assign(value)
    for variable, value in zip(model.optimizer.variables, optimizer_start, strict=True):
        variable.assign(value)


def compiled_once(build: Callable[[], keras.Model]) -> Callable[[], keras.Model]:
    """Wraps a model builder so that its model is traced only once.

    Args:
        build: returns a new compiled, built model; it draws its initial
            weights from the current Keras seed, and returns the same
            architecture on every call.

    Returns:
        A function with no argument. Its first call returns ``build()``;
        every later call builds a fresh model (so the weights depend on the
        seed set just before), copies its start into the first model, resets
        that model's optimizer to its state before the first step, and
        returns the first model, whose traced ``fit``, ``evaluate`` and
        ``predict`` are kept.

    Example:
        >>> new_model = compiled_once(lambda: make_model(depth=12))
        >>> for seed in range(3):
        ...     keras.utils.set_random_seed(seed)
        ...     history = new_model().fit(X, y, epochs=5)  # traced on seed 0 only
    """
    if not callable(build):
        raise TypeError(f"`build` must be a function returning a compiled Keras model; "
                        f"received {type(build).__name__}.")
    name = getattr(build, "__name__", "build")
    state: dict = {}

    def new_model() -> keras.Model:
        if not state:
            model = _ready(build(), name)
            state.update(model=model,
                         optimizer_start=[v.numpy() for v in model.optimizer.variables])
            return model
        restart(state["model"], _ready(build(), name, build_optimizer=False),
                state["optimizer_start"])
        return state["model"]

    return new_model
