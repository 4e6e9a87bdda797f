"""Helpers for the open course *Training Deep Neural Networks*.

Every chapter page and every exercise imports what it needs from here::

    from course_utils import load_fashion_mnist, use_course_style

Names are loaded lazily: ``import course_utils`` is cheap, and TensorFlow is
imported only when a helper that needs it is first used. They are defined in
``core/`` (plumbing every chapter uses) and in one subpackage per chapter
(``ch01_unstable_gradients/`` ... ``ch10_practical_guidelines/``); the
exercises' self-checks are ``course_utils.checks``. The instructor's tools
(``course_utils.instructor``: the ``course`` command, the book tools,
grading) are not part of this public API and are never imported by it.
"""

from __future__ import annotations

import importlib
import os

# Quiet TensorFlow's C++ logs before anything imports it. Log lines on stderr
# clutter the book and can zero a test cell in nbgrader.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

__version__ = "0.1.0"

# One entry per module, keyed by its path below the package: the names it
# makes public. Each module's own ``__all__`` must equal its tuple here (a unit
# test checks that).
_PUBLIC: dict[str, tuple[str, ...]] = {
    "core.data": ("CLASS_NAMES", "FashionMNIST", "DataNotFoundError", "load_fashion_mnist"),
    "core.plotting": ("use_course_style", "plot_learning_curves", "plot_images"),
    "core.seeds": ("COURSE_SEED_VARIABLE", "course_seed", "seed_for", "set_seed", "seed_range",
              "PairedDifference", "SeedResults", "run_over_seeds"),
    "core.claims": ("ClaimError", "Claim", "check_claim", "check_difference", "describe_difference",
               "CLAIMS_LOG_VARIABLE"),
    "core.tables": ("markdown_table", "show_table"),
    "core.side_by_side": ("TowerRun", "mlp_tower", "train_side_by_side", "side_by_side_over_seeds",
                          "outputs_over_seeds"),
    "core.numerics": ("SELU_ALPHA", "SELU_SCALE"),
    "core.callbacks": ("EpochTimer",),
    "core.reuse": ("compiled_once",),
    "ch01_unstable_gradients.diagnostics": (
        "LayerStats",
        "activation_stats",
        "gradient_norms",
        "LayerStatsRecorder",
        "plot_layer_stats",
        "plot_gradient_norms",
    ),
    "ch01_unstable_gradients.residual": ("residual_mlp", "block_gradient_norms"),
    "ch02_initialization.initializers": ("Fans", "kernel_fans", "INIT_SCHEMES", "ACTIVATION_SCHEMES", "TRUNCATED_NORMAL_STD", "scheme_variance", "scheme_std", "uniform_limit", "truncated_normal_stddev", "scheme_for_activation", "variance_scaling", "distinct_units"),
    "ch02_initialization.init_experiments": ("PROPAGATION_ACTIVATIONS", "PROPAGATION_DERIVATIVES", "Propagation",
                                             "propagate_std", "propagate_signal", "plot_propagation"),
    "ch03_activations.activations": ("relu", "relu_derivative", "leaky_relu", "leaky_relu_derivative", "rrelu", "elu", "elu_derivative", "selu", "selu_derivative", "gelu", "gelu_derivative", "swish", "swish_derivative", "mish", "mish_derivative", "REFERENCE_ACTIVATIONS"),
    "ch03_activations.activation_layers": ("Mish", "Swish", "RReLU", "dead_unit_fraction"),
    "ch03_activations.activation_analysis": ("numerical_derivative", "derivative_jump", "is_monotonic", "minimize_scalar", "gaussian_expectation", "selu_moments", "solve_selu_parameters"),
    "ch04_batch_norm.batchnorm": ("BatchNormResult", "batch_norm_forward", "ParameterCount", "parameter_counts", "measure_inference_latency", "layer_norm_forward", "batches_containing", "batch_norm_per_batch"),
    "ch04_batch_norm.group_norm": ("group_norm_forward",),
    "ch04_batch_norm.bn_folding": ("BatchNormFoldingError", "bn_affine", "fold_into_previous", "fold_into_next", "fold_batch_norm"),
    "ch05_gradient_clipping.clipping": (
        "clip_by_value",
        "clip_by_norm",
        "clip_by_global_norm",
        "global_norm",
        "clip_like_optimizer",
        "GradientLog",
        "fit_logging_gradients",
        "plot_gradient_logs",
        "optimizer_updates",
    ),
    "ch05_gradient_clipping.clipping_monitor": ("GradientNormModel", "GradientNormRecorder", "GRADIENT_NORM_KEY"),
    "ch06_transfer_learning.transfer": (
        "TaskSplit",
        "split_tasks",
        "clone_with_weights",
        "set_trainable",
        "RecompileWarning",
        "combine_seed_results",
        "LayerwiseAdam",
        "batch_norm_statistics",
    ),
    "ch07_optimizers.optimizers": ("NumpyOptimizer", "GradientDescentOptimizer", "MomentumOptimizer", "NesterovOptimizer", "AdaGradOptimizer", "RMSPropOptimizer", "AdamOptimizer", "AdaMaxOptimizer", "NadamOptimizer", "AdamWOptimizer", "OPTIMIZER_CLASSES", "make_optimizer"),
    "ch07_optimizers.optimizer_experiments": ("run_steps", "keras_reference_steps", "hessian_bytes", "TestFunction", "ill_conditioned_quadratic", "rosenbrock", "run_trajectory", "plot_trajectories", "OptimizerRun", "train_with_optimizers", "plot_optimizer_runs", "average_runs", "paired_rows"),
    "ch07_optimizers.optimizer_dynamics": ("softmax_regression_gradient", "per_example_gradient_variance", "minibatch_gradient_noise", "predicted_gradient_noise", "loglog_slope", "heavy_ball_spectral_radius", "heavy_ball_path", "keras_quadratic_path", "SparseProblem", "sparse_logistic_problem", "logistic_loss", "train_logistic", "rare_spike_gradients", "keras_online_path"),
    "ch08_lr_schedules.schedules": ("power_decay", "exponential_decay", "piecewise_constant", "cosine_decay_with_warmup", "one_cycle", "plateau_rates", "OneCycleSchedule", "ScheduledMomentumSGD", "plot_schedules"),
    "ch08_lr_schedules.warm_restarts": ("restart_steps", "cosine_decay_restarts"),
    "ch08_lr_schedules.lr_finder": ("current_learning_rate", "LearningRateRecorder", "check_rates_used", "LRFinderResult", "find_learning_rate", "plot_lr_finder"),
    "ch09_regularization.mc_dropout": ("MCDropout", "MCAlphaDropout", "MCPrediction", "mc_dropout_predict", "mc_dropout_predict_loop", "predictive_entropy", "expected_calibration_error"),
    "ch09_regularization.weights": ("kernel_weights", "weight_sparsity", "weight_norm", "kernel_norms", "l1_l2_penalty"),
    "ch10_practical_guidelines.guidelines": ("TimeBudget", "EpochTimings", "time_epochs"),
    "ch10_practical_guidelines.ablation": ("MLPVariant", "variant_stack", "ablate_over_seeds"),
    "ch10_practical_guidelines.debugging": ("chance_loss", "initial_loss", "OverfitResult", "overfit_one_batch"),
    "core.machine": ("machine_description",),
}

_OWNER = {name: module for module, names in _PUBLIC.items() for name in names}

__all__ = sorted(_OWNER)


def __getattr__(name: str):
    module_name = _OWNER.get(name)
    if module_name is None:
        raise AttributeError(f"module 'course_utils' has no attribute {name!r}")
    module = importlib.import_module(f"{__name__}.{module_name}")
    value = getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
