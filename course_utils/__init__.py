"""Helpers for the open course *Training Deep Neural Networks*.

Every chapter page and every exercise imports what it needs from here::

    from course_utils import load_fashion_mnist, use_course_style

Names are loaded lazily: ``import course_utils`` is cheap, and TensorFlow is
imported only when a helper that needs it is first used. The grading code
(``course_utils.grading``) is not part of this public API and is never
imported by it.
"""

from __future__ import annotations

import importlib
import os

# Quiet TensorFlow's C++ logs before anything imports it. Log lines on stderr
# clutter the book and can zero a test cell in nbgrader.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

__version__ = "0.1.0"

# One entry per module: the names it makes public. Each module's own
# ``__all__`` must equal its tuple here (a unit test checks that).
_PUBLIC: dict[str, tuple[str, ...]] = {
    "data": ("CLASS_NAMES", "FashionMNIST", "DataNotFoundError", "load_fashion_mnist"),
    "plotting": ("use_course_style", "plot_learning_curves", "plot_images"),
    "seeds": ("COURSE_SEED_VARIABLE", "course_seed", "seed_for", "set_seed", "seed_range",
              "PairedDifference", "SeedResults", "run_over_seeds"),
    "claims": ("ClaimError", "Claim", "check_claim", "check_difference", "describe_difference",
               "CLAIMS_LOG_VARIABLE"),
    "tables": ("markdown_table", "show_table"),
    "diagnostics": (
        "LayerStats",
        "activation_stats",
        "gradient_norms",
        "LayerStatsRecorder",
        "plot_layer_stats",
        "plot_gradient_norms",
    ),
    "initializers": ("Fans", "kernel_fans", "INIT_SCHEMES", "ACTIVATION_SCHEMES", "TRUNCATED_NORMAL_STD", "scheme_variance", "scheme_std", "uniform_limit", "truncated_normal_stddev", "scheme_for_activation", "variance_scaling", "distinct_units"),
    "init_experiments": ("PROPAGATION_ACTIVATIONS", "PROPAGATION_DERIVATIVES", "Propagation",
                         "propagate_std", "propagate_signal", "plot_propagation"),
    "activations": ("SELU_ALPHA", "SELU_SCALE", "relu", "relu_derivative", "leaky_relu", "leaky_relu_derivative", "rrelu", "elu", "elu_derivative", "selu", "selu_derivative", "gelu", "gelu_derivative", "swish", "swish_derivative", "mish", "mish_derivative", "REFERENCE_ACTIVATIONS"),
    "activation_layers": ("Mish", "Swish", "RReLU", "dead_unit_fraction", "EpochTimer"),
    "activation_analysis": ("numerical_derivative", "derivative_jump", "is_monotonic", "minimize_scalar", "gaussian_expectation", "selu_moments", "solve_selu_parameters"),
    "batchnorm": ("BatchNormResult", "batch_norm_forward", "ParameterCount", "parameter_counts", "measure_inference_latency"),
    "bn_folding": ("BatchNormFoldingError", "bn_affine", "fold_into_previous", "fold_into_next", "fold_batch_norm"),
    "clipping": (
        "clip_by_value",
        "clip_by_norm",
        "clip_by_global_norm",
        "global_norm",
        "clip_like_optimizer",
        "GradientLog",
        "fit_logging_gradients",
        "plot_gradient_logs",
    ),
    "transfer": (
        "TaskSplit",
        "split_tasks",
        "clone_with_weights",
        "set_trainable",
        "RecompileWarning",
        "combine_seed_results",
    ),
    "optimizers": ("NumpyOptimizer", "GradientDescentOptimizer", "MomentumOptimizer", "NesterovOptimizer", "AdaGradOptimizer", "RMSPropOptimizer", "AdamOptimizer", "AdaMaxOptimizer", "NadamOptimizer", "AdamWOptimizer", "OPTIMIZER_CLASSES", "make_optimizer"),
    "optimizer_experiments": ("run_steps", "keras_reference_steps", "hessian_bytes", "TestFunction", "ill_conditioned_quadratic", "rosenbrock", "run_trajectory", "plot_trajectories", "OptimizerRun", "train_with_optimizers", "plot_optimizer_runs", "average_runs", "paired_rows"),
    "schedules": ("power_decay", "exponential_decay", "piecewise_constant", "cosine_decay_with_warmup", "one_cycle", "plateau_rates", "OneCycleSchedule", "ScheduledMomentumSGD", "plot_schedules"),
    "lr_finder": ("current_learning_rate", "LearningRateRecorder", "check_rates_used", "LRFinderResult", "find_learning_rate", "plot_lr_finder"),
    "regularization": ("MCDropout", "MCAlphaDropout", "MCPrediction", "mc_dropout_predict", "mc_dropout_predict_loop", "predictive_entropy", "expected_calibration_error", "kernel_weights", "weight_sparsity", "weight_norm", "kernel_norms", "l1_l2_penalty"),
    "guidelines": ("TimeBudget", "EpochTimings", "time_epochs"),
    "machine": ("machine_description",),
    "residual": ("residual_mlp", "block_gradient_norms"),
    "debugging": ("chance_loss", "initial_loss", "OverfitResult", "overfit_one_batch"),
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
