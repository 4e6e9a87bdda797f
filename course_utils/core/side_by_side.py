"""Train several small networks at once, as towers of one Keras model.

A page that compares activations, initializations or regularizers trains the
same small network many times. Each ``fit`` of a separate model pays for
building the model and tracing its training step, which on a CPU costs more
than the few hundred steps that follow. :func:`train_side_by_side` puts the
contenders side by side as independent towers of one model, with one output
and one loss each, and trains them with one ``fit``:

- the total loss is the sum of the towers' losses, and no weight is shared,
  so the gradient of each tower's weights is the gradient of its own loss;
- Adam, RMSprop, SGD and the other Keras optimizers update each variable
  from its own gradient only (unless ``global_clipnorm`` couples them, which
  is refused here), so each tower follows exactly the path it would follow
  alone;
- every tower sees the same batches in the same order: the comparison is
  paired by construction.

The towers draw their initial weights one after the other from the seeded
generator, so a tower's starting point differs from that of a model built
alone with the same seed: it is another draw from the same distribution.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import keras
import numpy as np

from course_utils.core.reuse import restart
from course_utils.core.seeds import SeedResults, run_over_seeds, seed_range
from course_utils.core.validation import check_integer

__all__ = ["TowerRun", "mlp_tower", "train_side_by_side", "side_by_side_over_seeds",
           "outputs_over_seeds"]


@dataclasses.dataclass(frozen=True)
class TowerRun:
    """One tower's run with one seed, as :func:`side_by_side_over_seeds` hands it to ``summarize``.

    Attributes:
        name: the tower's name.
        seed: the seed of this run (already shifted by ``COURSE_SEED``).
        history: the tower's own logs, one value per epoch (``loss``, the
            metrics, and their ``val_`` versions).
        model: the trained tower alone, a :class:`keras.Model` from the input
            to the tower's output. It is valid only inside ``summarize``: the
            next seed re-initializes its weights.
    """

    name: str
    seed: int
    history: dict[str, list[float]]
    model: keras.Model


def mlp_tower(activation: str, initializer: str, depth: int, units: int,
              n_classes: int = 10) -> Callable[[Any], Any]:
    """A plain MLP tower: ``depth`` Dense layers of ``units``, then a softmax.

    Args:
        activation: the hidden layers' activation (a Keras name).
        initializer: their kernel initializer (a Keras name).
        depth: number of hidden layers.
        units: units per hidden layer.
        n_classes: units of the softmax output layer.

    Returns:
        A function from the input tensor to the tower's output tensor, for
        :func:`train_side_by_side`; each call builds new layers.
    """
    depth = check_integer("depth", depth, low=1)
    units = check_integer("units", units, low=1)
    n_classes = check_integer("n_classes", n_classes, low=1)

    def build(x):
        for _ in range(depth):
            x = keras.layers.Dense(units, activation=activation, kernel_initializer=initializer)(x)
        return keras.layers.Dense(n_classes, activation="softmax")(x)

    return build


def _check_towers(towers: Mapping[str, Callable]) -> None:
    if not isinstance(towers, Mapping) or not towers:
        raise ValueError("`towers` must be a non-empty mapping from a name to a function that "
                         f"maps a Keras tensor to the tower's output; received {towers!r}.")
    for name, build in towers.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise ValueError("Each tower name must be a Python identifier (it names a Keras "
                             f"output); received {name!r}.")
        if not callable(build):
            raise ValueError(f"Tower {name!r} must be a function of the input tensor; received "
                             f"{type(build).__name__}.")


def side_by_side_model(towers: Mapping[str, Callable[[Any], Any]],
                       input_shape: Sequence[int], *, reseed: int | None = None) -> keras.Model:
    """Builds one functional model whose outputs are the named towers.

    Args:
        towers: name -> function that takes the input tensor and returns the
            tower's output tensor (built from fresh layers: no layer shared).
        input_shape: the shape of one example, without the batch axis.
        reseed: if given, the Keras seed is set to it before each tower is
            built, so towers of the same architecture start from the same
            weights, those of a model built alone after setting this seed.

    Returns:
        A :class:`keras.Model` with a dict of outputs keyed by tower name.
    """
    _check_towers(towers)
    inputs = keras.Input(shape=tuple(input_shape))
    outputs, owner = {}, {}
    for name, build in towers.items():
        if reseed is not None:
            keras.utils.set_random_seed(reseed)
        out = build(inputs)
        for weight in keras.Model(inputs, out).weights:
            if id(weight) in owner:
                raise ValueError(f"Towers {owner[id(weight)]!r} and {name!r} share weights "
                                 f"({weight.path}): build every tower from new layers, or the "
                                 "towers train each other.")
            owner[id(weight)] = name
        # An Identity layer names the output, so losses and logs use the tower name.
        outputs[name] = keras.layers.Identity(name=name)(out)
    return keras.Model(inputs, outputs)


def _compiled(model: keras.Model, *, optimizer, loss="sparse_categorical_crossentropy",
              metrics=("accuracy",), epochs=1, batch_size=32, validation_data=None,
              steps_per_execution=1, jit_compile="auto", **fit_kwargs):
    """Compiles a model with named outputs (optimizer built); returns ``fit(X, y) -> history``."""
    opt = optimizer()
    if getattr(opt, "global_clipnorm", None):
        raise ValueError("`global_clipnorm` clips all the towers' gradients together and couples "
                         "them: use `clipnorm` or `clipvalue`, which act per variable.")
    names = _output_names(model)
    model.compile(optimizer=opt, loss={name: loss for name in names},
                  metrics={name: list(metrics) for name in names},
                  steps_per_execution=steps_per_execution, jit_compile=jit_compile)
    opt.build(model.trainable_variables)
    if validation_data is not None:
        X_valid, y_valid = validation_data
        validation_data = (X_valid, {name: y_valid for name in names})

    def fit(X, y):
        return model.fit(X, {name: y for name in names}, epochs=epochs, batch_size=batch_size,
                         validation_data=validation_data, verbose=0, **fit_kwargs).history

    return fit


def _output_names(model: keras.Model) -> list[str]:
    if not isinstance(model.output, Mapping):
        raise ValueError("Expected a model whose outputs are a dict keyed by name; received "
                         f"outputs of type {type(model.output).__name__}.")
    return list(model.output)


def _split_history(history, names, metrics):
    """Keras' joint history -> tower name -> its own ``loss``, metrics and ``val_`` logs."""
    # With a single output, Keras logs "accuracy" rather than "<output>_accuracy".
    per_tower = {}
    for name in names:
        logs = {}
        for prefix in ("", "val_"):
            for metric in ("loss", *metrics):
                key = f"{prefix}{metric}" if len(names) == 1 else f"{prefix}{name}_{metric}"
                if key in history:
                    logs[f"{prefix}{metric}"] = [float(v) for v in history[key]]
        per_tower[name] = logs
    return per_tower


def train_side_by_side(towers: Mapping[str, Callable[[Any], Any]], X: np.ndarray, y: np.ndarray, *,
                       optimizer: Callable[[], keras.optimizers.Optimizer],
                       loss: str = "sparse_categorical_crossentropy",
                       metrics: Sequence[str] = ("accuracy",), epochs: int = 1,
                       batch_size: int = 32, validation_data: tuple | None = None,
                       steps_per_execution: int = 1, jit_compile: bool | str = "auto",
                       **fit_kwargs) -> tuple[keras.Model, dict[str, dict[str, list[float]]]]:
    """Trains independent towers with one ``fit`` on the same batches.

    Args:
        towers: name -> function from the input tensor to the tower's output.
        X: the training inputs, shape ``(n, *input_shape)``.
        y: the training targets, the same for every tower.
        optimizer: a function returning a new optimizer (called once; its
            per-variable update makes the towers independent).
        loss: the loss of every tower.
        metrics: the metrics of every tower.
        epochs: number of epochs.
        batch_size: mini-batch size.
        validation_data: optional ``(X_valid, y_valid)``.
        steps_per_execution: training steps per call of the compiled step
            (``Model.compile``'s option: fewer Python round trips).
        jit_compile: ``Model.compile``'s XLA option.
        **fit_kwargs: passed on to ``Model.fit`` (``shuffle``, ``callbacks``...).

    Returns:
        The trained model and, per tower, its history: ``loss`` and each
        metric, and the ``val_`` versions when validation data is given.
    """
    X = np.asarray(X)
    model = side_by_side_model(towers, X.shape[1:])
    fit = _compiled(model, optimizer=optimizer, loss=loss, metrics=metrics, epochs=epochs,
                    batch_size=batch_size, validation_data=validation_data,
                    steps_per_execution=steps_per_execution, jit_compile=jit_compile,
                    **fit_kwargs)
    return model, _split_history(fit(X, y), list(towers), metrics)


def side_by_side_over_seeds(make_towers: Callable[[], Mapping[str, Callable[[Any], Any]]],
                            X: np.ndarray, y: np.ndarray, *,
                            summarize: Callable[[TowerRun], Mapping[str, float]],
                            n_seeds: int = 3, start: int = 0, same_start: bool = False,
                            **train_kwargs) -> SeedResults:
    """Trains the towers side by side once per seed and collects a summary of each.

    For every seed of :func:`course_utils.seed_range` (so ``COURSE_SEED``
    shifts them), the Keras seed is set, ``make_towers()`` draws fresh
    initial weights, and the towers train on the same batches. The result
    pairs the towers seed by seed, like :func:`course_utils.run_over_seeds`.

    Tracing the training step of a deep model costs far more on a CPU than a
    few hundred steps, so the model is compiled once: for each later seed
    its weights are replaced by the new draw and the optimizer's variables
    (step count, moments) by their values before the first step. Each seed's
    run is the one :func:`train_side_by_side` would give after setting that
    seed (a unit test checks this).

    Args:
        make_towers: returns name -> tower function (called once per seed,
            after the seed is set, so the initial weights depend on it).
        X: training inputs.
        y: training targets.
        summarize: maps one tower's :class:`TowerRun` to the numbers to keep,
            for example ``lambda run: {"val_accuracy": run.history["val_accuracy"][-1]}``.
        n_seeds: number of seeds.
        start: the first base seed.
        same_start: reset the seed before building each tower, so that towers
            of the same architecture start from the same weights: those a
            model built alone after setting the seed would get. This pairs the
            configurations more tightly (only what differs between them can
            change the outcome) and keeps the runs of each tower equal to a
            separate model's.
        **train_kwargs: passed on to :func:`train_side_by_side`.

    Returns:
        A :class:`course_utils.SeedResults` with one configuration per tower.
    """
    X = np.asarray(X)

    def make_model(seed: int) -> keras.Model:
        return side_by_side_model(make_towers(), X.shape[1:], reseed=seed if same_start else None)

    return outputs_over_seeds(make_model, X, y, summarize=summarize, n_seeds=n_seeds,
                              start=start, **train_kwargs)


def outputs_over_seeds(make_model: Callable[[int], keras.Model], X: np.ndarray, y: np.ndarray, *,
                       summarize: Callable[[TowerRun], Mapping[str, float]], n_seeds: int = 3,
                       start: int = 0, **train_kwargs) -> SeedResults:
    """Trains a model with named, independent outputs once per seed, compiled once.

    The engine of :func:`side_by_side_over_seeds`, for any model whose
    outputs are a dict of independent networks (the towers of
    :func:`side_by_side_model`, or the stacked variants of
    :func:`course_utils.variant_stack`). For every seed of
    :func:`course_utils.seed_range`, the Keras seed is set and
    ``make_model(seed)`` draws fresh initial weights; the first model is
    compiled and later seeds only restart it (:mod:`course_utils.core.reuse`).

    Args:
        make_model: ``seed -> keras.Model`` with a dict of outputs; the same
            architecture for every seed.
        X: training inputs.
        y: training targets, the same for every output.
        summarize: maps one output's :class:`TowerRun` to the numbers to keep.
        n_seeds: number of seeds.
        start: the first base seed.
        **train_kwargs: passed on to :func:`train_side_by_side` (``optimizer``,
            ``epochs``, ``batch_size``, ``validation_data``...).

    Returns:
        A :class:`course_utils.SeedResults` with one configuration per output.
    """
    X = np.asarray(X)
    # The first seed's model names the outputs; it is trained as that seed's run.
    first_seed = seed_range(n_seeds, start)[0]
    keras.utils.set_random_seed(first_seed)
    first = make_model(first_seed)
    names = _output_names(first)
    state: dict[str, Any] = {}
    trained: dict[int, dict[str, Mapping[str, float]]] = {}
    metrics = train_kwargs.get("metrics", ("accuracy",))

    def one_seed(seed: int) -> dict[str, dict[str, list[float]]]:
        if not state:
            state.update(model=first, fit=_compiled(first, **train_kwargs),
                         optimizer_start=[v.numpy() for v in first.optimizer.variables])
        else:
            keras.utils.set_random_seed(seed)
            restart(state["model"], make_model(seed), state["optimizer_start"])
        return _split_history(state["fit"](X, y), names, metrics)

    def tower_model(name: str) -> keras.Model:
        models = state.setdefault("towers", {})
        if name not in models:
            model = state["model"]
            models[name] = keras.Model(model.inputs, model.output[name])
        return models[name]

    def one_tower(name: str, seed: int) -> Mapping[str, float]:
        if seed not in trained:
            trained[seed] = {tower: summarize(TowerRun(tower, seed, history, tower_model(tower)))
                             for tower, history in one_seed(seed).items()}
        return trained[seed][name]

    return run_over_seeds(one_tower, names, n_seeds=n_seeds, start=start)
