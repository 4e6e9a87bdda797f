"""The NumPy optimizers against keras.optimizers, the 2D test functions against
finite differences, and the trajectory and training helpers."""

from __future__ import annotations

import keras
import matplotlib.pyplot as plt
import numpy as np
import pytest

from course_utils import (
    OPTIMIZER_CLASSES,
    AdaGradOptimizer,
    AdamOptimizer,
    AdamWOptimizer,
    GradientDescentOptimizer,
    MomentumOptimizer,
    NadamOptimizer,
    NesterovOptimizer,
    OptimizerRun,
    average_runs,
    hessian_bytes,
    ill_conditioned_quadratic,
    keras_reference_steps,
    load_fashion_mnist,
    make_optimizer,
    paired_rows,
    plot_optimizer_runs,
    plot_trajectories,
    rosenbrock,
    run_over_seeds,
    run_steps,
    run_trajectory,
    train_with_optimizers,
)

# Keras converts beta_1, beta_2 and the learning rate to float32 tensors before
# casting them to the variables' dtype, so even with float64 variables the two
# implementations agree only to about 1e-7 relative per step. After 12 steps
# the parameters agree to well within this tolerance.
RTOL, ATOL = 1e-5, 1e-6

HYPERPARAMETERS = {
    "GD": [{}, {"learning_rate": 0.3}],
    "Momentum": [{}, {"learning_rate": 0.05, "momentum": 0.5}],
    "Nesterov": [{}, {"learning_rate": 0.05, "momentum": 0.95}],
    "AdaGrad": [{}, {"learning_rate": 0.1, "initial_accumulator_value": 0.0, "epsilon": 1e-3}],
    "RMSProp": [{}, {"learning_rate": 0.01, "rho": 0.5, "epsilon": 1e-4}],
    "Adam": [{}, {"learning_rate": 0.02, "beta_1": 0.5, "beta_2": 0.9, "epsilon": 1e-3}],
    "AdaMax": [{}, {"learning_rate": 0.02, "beta_1": 0.8, "beta_2": 0.99}],
    "Nadam": [{}, {"learning_rate": 0.02, "beta_1": 0.8, "beta_2": 0.99}],
    "AdamW": [{}, {"learning_rate": 0.02, "weight_decay": 0.5}],
}
CASES = [(name, kw) for name, kws in HYPERPARAMETERS.items() for kw in kws]


def _problem(seed, n_steps=12):
    rng = np.random.default_rng(seed)
    params = [rng.normal(size=(3, 4)), rng.normal(size=5)]
    # Gradients whose scale drifts over three orders of magnitude, with a
    # sign flip, exercise the adaptive denominators and the bias corrections.
    scales = np.geomspace(2.0, 2e-3, n_steps) * np.where(np.arange(n_steps) % 5 == 4, -1, 1)
    grads = [[s * rng.normal(size=(3, 4)), s * rng.normal(size=5)] for s in scales]
    return params, grads


def test_every_class_is_covered():
    assert set(HYPERPARAMETERS) == set(OPTIMIZER_CLASSES)
    assert len(OPTIMIZER_CLASSES) == 9


@pytest.mark.parametrize("name,kwargs", CASES)
@pytest.mark.parametrize("seed", [0, 1])
def test_matches_keras_after_twelve_steps(name, kwargs, seed):
    params, grads = _problem(seed)
    optimizer = make_optimizer(name, **kwargs)
    ours = run_steps(optimizer, params, grads)
    reference = keras_reference_steps(optimizer.to_keras(), params, grads)
    moved = max(np.abs(a - b).max() for a, b in zip(ours, params))
    assert moved > 1e-3, "the test problem must actually move the parameters"
    for a, b in zip(ours, reference):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL)
    assert optimizer.iterations == len(grads)


@pytest.mark.parametrize("name", list(OPTIMIZER_CLASSES))
def test_matches_keras_in_float32(name):
    params, grads = _problem(3)
    optimizer = make_optimizer(name)
    ours = run_steps(optimizer, params, grads)
    reference = keras_reference_steps(optimizer.to_keras(), params, grads, dtype="float32")
    for a, b in zip(ours, reference):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def test_to_keras_classes_and_nesterov_flag():
    assert isinstance(NesterovOptimizer().to_keras(), keras.optimizers.SGD)
    assert NesterovOptimizer().to_keras().nesterov
    assert not MomentumOptimizer().to_keras().nesterov
    assert isinstance(NadamOptimizer().to_keras(), keras.optimizers.Nadam)
    assert isinstance(AdamWOptimizer().to_keras(), keras.optimizers.AdamW)
    assert AdamWOptimizer(weight_decay=0.1).to_keras().weight_decay == pytest.approx(0.1)


def test_first_steps_by_hand():
    g = np.array([0.5, -2.0])
    theta = np.array([1.0, 1.0])
    # Gradient descent and momentum: m1 = -eta g, m2 = beta m1 - eta g.
    np.testing.assert_allclose(GradientDescentOptimizer(0.1).step(theta, g), [0.95, 1.2])
    mom = MomentumOptimizer(0.1, 0.9)
    p = mom.step(mom.step(theta, g), g)
    np.testing.assert_allclose(p, theta - 0.1 * g - (0.9 * 0.1 + 0.1) * g)
    # Adam's first step is eta * g / (|g| + eps / sqrt(1 - beta_2)): about eta * sign(g).
    step = theta - AdamOptimizer(0.1, epsilon=0.0).step(theta, g)
    np.testing.assert_allclose(step, 0.1 * np.sign(g), rtol=1e-12)
    # AdaGrad: accumulator 0.1 + g**2.
    expected = theta - 0.1 * g / np.sqrt(0.1 + g**2 + 1e-7)
    np.testing.assert_allclose(AdaGradOptimizer(0.1).step(theta, g), expected, rtol=1e-12)


def test_nesterov_is_textbook_nag_at_the_look_ahead_point():
    f = ill_conditioned_quadratic(10.0, angle_degrees=30.0)
    eta, beta = 0.05, 0.9
    theta, m = np.array([2.0, -1.0]), np.zeros(2)
    nesterov, phi = NesterovOptimizer(eta, beta), theta.copy()
    for _ in range(25):
        m = beta * m - eta * f.gradient(theta + beta * m)
        theta = theta + m
        phi = nesterov.step(phi, f.gradient(phi))
        np.testing.assert_allclose(phi, theta + beta * m, rtol=1e-12, atol=1e-12)


def test_adamw_decay_is_decoupled():
    # With zero gradients Adam does not move, AdamW shrinks by (1 - eta lambda)^t.
    theta = np.array([1.0, -3.0])
    zero = np.zeros(2)
    out = run_steps(AdamWOptimizer(0.01, weight_decay=0.5), [theta], [[zero]] * 10)[0]
    np.testing.assert_allclose(out, theta * (1 - 0.005) ** 10, rtol=1e-12)
    out = run_steps(AdamOptimizer(0.01), [theta], [[zero]] * 10)[0]
    np.testing.assert_allclose(out, theta, rtol=0, atol=0)


def test_step_does_not_modify_inputs_and_returns_new_arrays():
    params, grads = _problem(0, n_steps=1)
    before = [p.copy() for p in params], [g.copy() for g in grads[0]]
    for name in OPTIMIZER_CLASSES:
        out = make_optimizer(name).step(params, grads[0])
        assert all(o is not p for o, p in zip(out, params))
    for a, b in zip(params + grads[0], before[0] + before[1]):
        np.testing.assert_array_equal(a, b)


def test_single_array_in_single_array_out():
    out = AdamOptimizer().step(np.ones(3), np.ones(3))
    assert isinstance(out, np.ndarray) and out.shape == (3,)


@pytest.mark.parametrize("kwargs,error", [
    ({"learning_rate": 0.0}, "learning_rate"),
    ({"learning_rate": -1.0}, "learning_rate"),
    ({"learning_rate": float("nan")}, "learning_rate"),
    ({"momentum": 1.0}, "momentum"),
    ({"momentum": -0.1}, "momentum"),
])
def test_bad_hyperparameters(kwargs, error):
    with pytest.raises(ValueError, match=error):
        MomentumOptimizer(**kwargs)


def test_bad_inputs():
    with pytest.raises(TypeError, match=r"Expected `learning_rate` to be a positive number\. "
                                        r"Received: learning_rate='0.1' of type str"):
        AdamOptimizer(learning_rate="0.1")
    with pytest.raises(ValueError, match="beta_2"):
        AdamOptimizer(beta_2=1.0)
    with pytest.raises(ValueError, match="Unknown optimizer.*'Adamm'"):
        make_optimizer("Adamm")
    opt = AdamOptimizer()
    with pytest.raises(ValueError, match=r"same shape.*\(2,\).*\(3,\)"):
        opt.step([np.zeros(2)], [np.zeros(3)])
    with pytest.raises(TypeError, match="list or tuple"):
        opt.step({"w": np.zeros(2)}, {"w": np.zeros(2)})
    with pytest.raises(TypeError, match="both be arrays or both be lists"):
        opt.step(np.zeros(2), [np.zeros(2)])
    opt.step([np.zeros(2)], [np.ones(2)])
    with pytest.raises(ValueError, match="built for parameter shapes.*reset"):
        opt.step([np.zeros(4)], [np.ones(4)])
    opt.reset()
    assert opt.iterations == 0
    opt.step([np.zeros(4)], [np.ones(4)])


def test_hessian_bytes():
    assert hessian_bytes(79_510) == 79_510**2 * 4
    assert hessian_bytes(10, bytes_per_entry=8) == 800
    for bad in (0, -5, 2.5, True):
        with pytest.raises(ValueError, match="n_params"):
            hessian_bytes(bad)


@pytest.mark.parametrize("function", [
    ill_conditioned_quadratic(), ill_conditioned_quadratic(50.0, angle_degrees=35.0),
    rosenbrock(), rosenbrock(a=0.5, b=10.0)])
def test_gradients_match_finite_differences(function):
    points = np.random.default_rng(0).uniform(-1.5, 1.5, size=(20, 2))
    h = 1e-6
    numeric = np.stack([(function(points + h * e) - function(points - h * e)) / (2 * h)
                        for e in np.eye(2)], axis=-1)
    np.testing.assert_allclose(function.gradient(points), numeric, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(function.gradient(function.minimum), 0.0, atol=1e-12)
    assert function(function.minimum) == pytest.approx(0.0, abs=1e-12)


def test_quadratic_hessian_eigenvalues():
    f = ill_conditioned_quadratic(30.0, angle_degrees=20.0)
    h = 1e-5
    hessian = np.stack([(f.gradient(h * e) - f.gradient(-h * e)) / (2 * h) for e in np.eye(2)])
    np.testing.assert_allclose(np.linalg.eigvalsh(hessian), [1.0, 30.0], rtol=1e-8)
    with pytest.raises(ValueError, match="condition_number"):
        ill_conditioned_quadratic(0.5)
    with pytest.raises(ValueError, match=r"shape \(\.\.\., 2\)"):
        f(np.zeros(3))


def test_run_trajectory_converges_and_leaves_the_optimizer_alone():
    f = ill_conditioned_quadratic(10.0)
    opt = MomentumOptimizer(0.05, 0.8)
    opt.step(np.zeros(2), np.ones(2))
    path = run_trajectory(opt, f, n_steps=300)
    assert path.shape == (301, 2)
    np.testing.assert_array_equal(path[0], f.start)
    assert np.linalg.norm(path[-1]) < 1e-6
    assert opt.iterations == 1  # the argument was copied, not used
    # Diverging gradient descent stops at the first non-finite point.
    diverging = run_trajectory(GradientDescentOptimizer(1.0), rosenbrock(), n_steps=500)
    assert len(diverging) < 501 and np.all(np.isfinite(diverging))
    with pytest.raises(TypeError, match="NumpyOptimizer"):
        run_trajectory(keras.optimizers.SGD(), f)
    with pytest.raises(ValueError, match="start point"):
        run_trajectory(opt, f, start=[0.0, 1.0, 2.0])


def test_plot_trajectories_draws_one_line_per_optimizer():
    f = rosenbrock()
    paths = {name: run_trajectory(make_optimizer(name), f, n_steps=20)
             for name in OPTIMIZER_CLASSES}
    ax = plot_trajectories(f, paths)
    labels = [line.get_label() for line in ax.get_lines()]
    assert [lab for lab in labels if lab in OPTIMIZER_CLASSES] == list(OPTIMIZER_CLASSES)
    plt.close("all")


def test_train_with_optimizers_same_start():
    data = load_fashion_mnist(n_train=256, n_valid=128)

    def build():
        return keras.Sequential([keras.Input(shape=(28, 28)), keras.layers.Flatten(),
                                 keras.layers.Dense(8, activation="relu"),
                                 keras.layers.Dense(10, activation="softmax")])

    runs = train_with_optimizers(
        build, {"a": lambda: keras.optimizers.SGD(0.01),
                "b": lambda: keras.optimizers.SGD(0.01)}, data, epochs=2, batch_size=64)
    assert isinstance(runs["a"], OptimizerRun)
    # Same seed, same optimizer: identical curves, so every run starts alike.
    assert runs["a"].history == runs["b"].history
    assert runs["a"].n_params == 784 * 8 + 8 + 8 * 10 + 10
    assert len(runs["a"].history["val_accuracy"]) == 2 and runs["a"].seconds_per_epoch > 0
    axes = plot_optimizer_runs(runs)
    assert len(axes) == 2
    plt.close("all")
    with pytest.raises(ValueError, match="empty"):
        train_with_optimizers(build, {}, data)


def test_average_runs_epoch_by_epoch():
    first = OptimizerRun({"loss": [1.0, 0.5], "val_accuracy": [0.2, 0.4]}, 1.0, 7)
    second = OptimizerRun({"loss": [3.0, 1.5], "val_accuracy": [0.4, 0.8]}, 3.0, 7)
    mean = average_runs([first, second])
    assert mean.history == {"loss": [2.0, 1.0], "val_accuracy": [pytest.approx(0.3),
                                                                 pytest.approx(0.6)]}
    assert mean.seconds_per_epoch == 2.0 and mean.n_params == 7
    assert mean.final_val_accuracy == pytest.approx(0.6)
    with pytest.raises(ValueError, match="at least one"):
        average_runs([])
    with pytest.raises(ValueError, match="same metrics and epochs"):
        average_runs([first, OptimizerRun({"loss": [1.0]}, 1.0, 7)])


def test_paired_rows_against_hand_computed_differences():
    scores = {"base": [0.5, 0.6, 0.7], "better": [0.6, 0.8, 0.8]}
    results = run_over_seeds(lambda config, seed: scores[config][seed], ["base", "better"],
                             seed_list=[0, 1, 2])
    rows = paired_rows(results, "base", digits=3)
    assert rows[0] == ["base", "0.600 ± 0.100", "-", "-"]
    differences = np.array([0.1, 0.2, 0.1])          # better - base, seed by seed
    se = differences.std(ddof=1) / np.sqrt(3)
    assert rows[1] == ["better", f"{np.mean(scores['better']):.3f} ± "
                                 f"{np.std(scores['better'], ddof=1):.3f}",
                       f"{differences.mean():+.3f} ± {se:.3f}", "+0.100 to +0.200"]
    with pytest.raises(KeyError, match="baseline"):
        paired_rows(results, "missing")
