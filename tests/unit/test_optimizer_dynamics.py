"""Mini-batch noise, momentum's stability region, rare features and AMSGrad (chapter 7)."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from course_utils import (
    AdaGradOptimizer,
    GradientDescentOptimizer,
    heavy_ball_path,
    heavy_ball_spectral_radius,
    keras_online_path,
    keras_quadratic_path,
    logistic_loss,
    loglog_slope,
    minibatch_gradient_noise,
    per_example_gradient_variance,
    predicted_gradient_noise,
    rare_spike_gradients,
    softmax_regression_gradient,
    sparse_logistic_problem,
    train_logistic,
)


def tiny_softmax_problem(seed=0, n=300, d=6, k=4):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.integers(0, k, n), rng.normal(size=(d, k))


def per_example_gradients(X, y, W):
    """Reference: one explicit gradient per example, from the loss's definition."""
    grads = []
    for x, label in zip(X, y):
        z = x @ W
        p = np.exp(z - z.max())
        p /= p.sum()
        p[label] -= 1
        grads.append(np.outer(x, p))
    return np.array(grads)


def test_softmax_gradient_matches_finite_differences():
    X, y, W = tiny_softmax_problem(n=40)

    def loss(W):
        z = X @ W
        return np.mean(np.log(np.exp(z).sum(axis=1)) - z[np.arange(len(y)), y])

    numeric = np.zeros_like(W)
    for idx in np.ndindex(W.shape):
        step = np.zeros_like(W)
        step[idx] = 1e-6
        numeric[idx] = (loss(W + step) - loss(W - step)) / 2e-6
    np.testing.assert_allclose(softmax_regression_gradient(X, y, W), numeric, atol=1e-7)


def test_per_example_variance_matches_explicit_gradients():
    X, y, W = tiny_softmax_problem()
    g = per_example_gradients(X, y, W)
    expected = np.mean(np.sum((g - g.mean(axis=0)) ** 2, axis=(1, 2)))
    assert per_example_gradient_variance(X, y, W) == pytest.approx(expected, rel=1e-10)


def test_minibatch_noise_matches_the_exact_expectation():
    X, y, W = tiny_softmax_problem()
    sizes = [1, 4, 16, 64, 300]
    noise = minibatch_gradient_noise(X, y, W, sizes, n_batches=2000, seed=3)
    predicted = predicted_gradient_noise(per_example_gradient_variance(X, y, W), sizes, len(X))
    np.testing.assert_allclose(noise[:-1], predicted[:-1], rtol=0.06)
    assert noise[-1] < 1e-12 and predicted[-1] == 0  # the whole set: no noise at all
    assert loglog_slope(sizes[:3], predicted[:3]) == pytest.approx(-0.5, abs=0.02)


def test_loglog_slope_known_values_and_errors():
    x = np.array([1.0, 2.0, 8.0])
    assert loglog_slope(x, 3 * x**-0.5) == pytest.approx(-0.5)
    assert loglog_slope(x, x**2) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="at least 2"):
        loglog_slope([1.0], [1.0])


def test_bad_inputs_raise_clear_errors():
    X, y, W = tiny_softmax_problem()
    with pytest.raises(ValueError, match="batch sizes between 1 and 300"):
        minibatch_gradient_noise(X, y, W, [0, 4])
    with pytest.raises(ValueError, match="one integer label per row"):
        softmax_regression_gradient(X, y[:-1], W)
    with pytest.raises(ValueError, match="labels in"):
        softmax_regression_gradient(X, y + 10, W)
    with pytest.raises(ValueError, match="rows"):
        softmax_regression_gradient(X, y, W[:-1])


@pytest.mark.parametrize("beta", [0.0, 0.3, 0.9, 0.99])
def test_spectral_radius_matches_numpy_roots_and_the_bound(beta):
    for h in np.linspace(0.05, 4.5, 37):
        roots = np.roots([1.0, -(1 + beta - h), beta])
        assert heavy_ball_spectral_radius(h, beta) == pytest.approx(np.abs(roots).max())
        limit = 2 * (1 + beta)
        if abs(h - limit) > 1e-6:
            assert (heavy_ball_spectral_radius(h, beta) < 1) == (h < limit)


def test_heavy_ball_path_is_the_momentum_rule():
    eta, lam, beta = 0.1, np.array([2.0, 30.0]), 0.8
    theta, m, expected = np.ones(2), np.zeros(2), []
    for _ in range(25):
        m = beta * m - eta * lam * theta
        theta = theta + m
        expected.append(theta.copy())
    np.testing.assert_allclose(heavy_ball_path(eta, lam, beta, 25), expected)


def test_keras_sgd_momentum_follows_the_heavy_ball_path():
    lam = np.array([1.0, 30.0, 40.0])  # inside, inside, outside the bound for eta 0.1, beta 0.9
    ours = heavy_ball_path(0.1, lam, 0.9, 60)
    theirs = keras_quadratic_path(keras.optimizers.SGD(0.1, momentum=0.9), lam, 60)
    np.testing.assert_allclose(theirs, ours, rtol=1e-4, atol=1e-6)
    assert abs(ours[-1, 2]) > 1 > abs(ours[-1, 1])


def test_sparse_problem_shapes_and_logistic_training():
    problem = sparse_logistic_problem(0, n_train=500, n_test=200, n_dense=3, n_rare=7)
    assert problem.X_train.shape == (500, 10) and problem.X_test.shape == (200, 10)
    assert set(np.unique(problem.X_train[:, 3:])) <= {0.0, 1.0}
    assert logistic_loss(problem.X_train, problem.y_train, np.zeros(10)) == pytest.approx(
        np.log(2))
    before = problem.X_train.copy()
    w = train_logistic(AdaGradOptimizer(0.3), problem.X_train, problem.y_train)
    np.testing.assert_array_equal(problem.X_train, before)
    assert logistic_loss(problem.X_train, problem.y_train, w) < np.log(2)
    # One batch of the whole set with plain GD is one full gradient step from zero.
    w1 = train_logistic(GradientDescentOptimizer(1.0), problem.X_train, problem.y_train,
                        batch_size=500)
    expected = -(problem.X_train.T @ (0.5 - problem.y_train)) / 500
    np.testing.assert_allclose(w1, expected)
    with pytest.raises(ValueError, match="rare_probability"):
        sparse_logistic_problem(0, rare_probability=1.5)


def test_rare_spike_gradients_one_spike_per_block():
    g = rare_spike_gradients(5, 10, 30.0, seed=1)
    blocks = g.reshape(5, 10)
    assert np.all((blocks == 30.0).sum(axis=1) == 1) and np.all((blocks == -1).sum(axis=1) == 9)
    with pytest.raises(ValueError, match="block >= 2"):
        rare_spike_gradients(5, 1, 30.0, seed=1)


@pytest.mark.parametrize("amsgrad", [False, True])
def test_keras_online_path_matches_a_numpy_adam(amsgrad):
    g = rare_spike_gradients(3, 20, 25.0, seed=0)
    lr, b1, b2, eps = 0.05, 0.9, 0.9, 1e-7
    x, m, v, v_max, expected = 0.0, 0.0, 0.0, 0.0, []
    for t, gt in enumerate(g, start=1):
        m = b1 * m + (1 - b1) * gt
        v = b2 * v + (1 - b2) * gt**2
        v_max = max(v_max, v)
        alpha = lr * np.sqrt(1 - b2**t) / (1 - b1**t)
        x = float(np.clip(x - alpha * m / (np.sqrt(v_max if amsgrad else v) + eps), -1, 1))
        expected.append(x)
    path = keras_online_path(keras.optimizers.Adam(lr, beta_1=b1, beta_2=b2, epsilon=eps,
                                                   amsgrad=amsgrad), g)
    np.testing.assert_allclose(path, expected, atol=1e-5)
    with pytest.raises(ValueError, match="start inside"):
        keras_online_path(keras.optimizers.Adam(), g, start=2.0)
