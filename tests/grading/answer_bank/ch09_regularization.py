"""Answer bank for ch09_regularization (see tests/grading/answer_bank/__init__.py)."""

from tests.grading.answer_bank import right, wrong

_CONSTRAINT_HEAD = '''
class MaxNormConstraint(keras.constraints.Constraint):
    def __init__(self, r):
        self.r = r
'''

_CONSTRAINT_TAIL = '''
    def get_config(self):
        return {"r": self.r}


def max_norm_dense(units, r, **kwargs):
    return keras.layers.Dense(units, kernel_constraint=MaxNormConstraint(r), **kwargs)
'''

ENTRIES = [
    # ---- task 1: inverted dropout ---------------------------------------------------------------
    wrong("no_rescaling", "task1", '''
def inverted_dropout(h, rate, rng):
    if not 0 <= rate < 1:
        raise ValueError(f"Expected 0 <= rate < 1. Received: rate={rate}")
    keep = rng.random(np.shape(h)) >= rate
    return np.where(keep, h, 0.0), keep
''', points={"test_task1": 0}, why="drops units but forgets to divide the kept ones by 1 - p"),
    wrong("inplace_float64_dropout", "task1", '''
def inverted_dropout(h, rate, rng):
    if not 0 <= rate < 1:
        raise ValueError(f"Expected 0 <= rate < 1. Received: rate={rate}")
    h = np.asarray(h, dtype=np.float64)
    keep = rng.random(h.shape) >= rate
    h[~keep] = 0.0
    h /= 1.0 - rate
    return h, keep
''', points={"test_task1": 0}, why="zeroes and rescales the caller's float64 array in place"),
    wrong("no_rate_check", "task1", '''
def inverted_dropout(h, rate, rng):
    keep = rng.random(np.shape(h)) >= rate
    return np.where(keep, np.asarray(h, dtype=float) / (1 - rate), 0.0), keep
''', points={"test_task1": 0}, why="no ValueError for a rate outside [0, 1)"),
    right("float32_multiply", "task1", '''
def inverted_dropout(h, rate, rng):
    if rate < 0 or rate >= 1:
        raise ValueError(f"rate must be in [0, 1), got {rate}")
    keep = rng.random(np.shape(h)) >= rate
    output = np.asarray(h, dtype=np.float32) * keep / np.float32(1 - rate)
    return output, keep
''', why="float32 output, the mask multiplied in"),
    right("copy_then_scale", "task1", '''
def inverted_dropout(h, rate, rng):
    if not (0.0 <= rate < 1.0):
        raise ValueError("rate must satisfy 0 <= rate < 1")
    h = np.array(h, dtype=float)  # a copy: the in-place edits below are on it
    keep = rng.random(h.shape) >= rate
    h[~keep] = 0.0
    h /= 1.0 - rate
    return h, keep
''', why="in-place edits on its own copy"),
    # ---- task 2: MC dropout -------------------------------------------------------------------------
    wrong("dropout_off", "task2", '''
def mc_dropout_mean_std(model, X, n_samples=100):
    probs = np.stack([np.asarray(model(X)) for _ in range(n_samples)])
    return probs.mean(axis=0), probs.std(axis=0)
''', points={"test_task2": 0}, why="calls the model without training=True: every pass is the same"),
    wrong("forbidden_helper", "task2", '''
from course_utils import mc_dropout_predict


def mc_dropout_mean_std(model, X, n_samples=100):
    prediction = mc_dropout_predict(model, X, n_samples)
    return prediction.mean, prediction.std
''', points={"test_task2": 0}, why="calls course_utils.mc_dropout_predict, which the task forbids"),
    wrong("std_over_classes", "task2", '''
def mc_dropout_mean_std(model, X, n_samples=100):
    probs = np.stack([keras.ops.convert_to_numpy(model(X, training=True))
                      for _ in range(n_samples)])
    return probs.mean(axis=0), np.repeat(probs.mean(axis=0).std(axis=1, keepdims=True),
                                          probs.shape[2], axis=1)
''', points={"test_task2": 0}, why="spread across the classes of the mean instead of across the passes"),
    right("loop_keras_ops", "task2", '''
def mc_dropout_mean_std(model, X, n_samples=100):
    passes = [model(X, training=True) for _ in range(n_samples)]
    probs = keras.ops.stack(passes)
    mean = keras.ops.mean(probs, axis=0)
    std = keras.ops.std(probs, axis=0)
    return keras.ops.convert_to_numpy(mean), keras.ops.convert_to_numpy(std)
''', why="a loop of passes, statistics with keras.ops in float32"),
    right("tensorflow_batched", "task2", '''
import tensorflow as tf


def mc_dropout_mean_std(model, X, n_samples=100):
    batch = tf.tile(tf.convert_to_tensor(X), [n_samples, 1])
    probs = tf.reshape(model(batch, training=True), (n_samples, len(X), -1))
    return tf.reduce_mean(probs, axis=0).numpy(), tf.math.reduce_std(probs, axis=0).numpy()
''', why="TensorFlow tile/reshape and reduce_std"),
    # ---- task 3: max-norm projection ----------------------------------------------------------------
    wrong("row_norms", "task3", '''
def max_norm_project(W, r):
    if r <= 0 or np.ndim(W) != 2:
        raise ValueError(f"Expected r > 0 and a 2-D W. Received: r={r}, shape={np.shape(W)}")
    norms = np.linalg.norm(W, axis=1, keepdims=True)
    return W * np.minimum(1.0, r / np.maximum(norms, 1e-12))
''', points={"test_task3": 0}, why="norms of the rows (outgoing weights) instead of the columns"),
    wrong("inplace_float64_projection", "task3", '''
def max_norm_project(W, r):
    if r <= 0:
        raise ValueError(f"Expected r > 0. Received: {r}")
    W = np.asarray(W, dtype=float)
    if W.ndim != 2:
        raise ValueError(f"Expected a 2-D kernel. Received shape {W.shape}")
    norms = np.linalg.norm(W, axis=0)
    big = norms > r
    W[:, big] *= r / norms[big]
    return W
''', points={"test_task3": 0}, why="rescales the columns of the caller's float64 array in place"),
    wrong("always_rescale", "task3", '''
def max_norm_project(W, r):
    if r <= 0 or np.ndim(W) != 2:
        raise ValueError(f"Expected r > 0 and a 2-D W. Received: r={r}, shape={np.shape(W)}")
    norms = np.linalg.norm(W, axis=0, keepdims=True)
    return W * r / np.where(norms > 0, norms, 1.0)
''', points={"test_task3": 0}, why="scales every column to norm r, also those inside the ball"),
    right("where_and_float32_input", "task3", '''
def max_norm_project(W, r):
    W = np.array(W, dtype=np.float64)
    if W.ndim != 2 or not r > 0:
        raise ValueError(f"W must be 2-D and r > 0; got shape {W.shape} and r={r}")
    norms = np.sqrt(np.einsum("ij,ij->j", W, W))
    scale = np.where(norms > r, r / np.where(norms == 0, 1.0, norms), 1.0)
    return W * scale[np.newaxis, :]
''', why="einsum norms and np.where, copy of W"),
    # ---- task 4: max-norm constraint ------------------------------------------------------------------
    wrong("forbidden_keras_maxnorm", "task4", _CONSTRAINT_HEAD + '''
    def __call__(self, w):
        return keras.constraints.MaxNorm(max_value=self.r, axis=0)(w)
''' + _CONSTRAINT_TAIL, points={"test_task4": 0},
        why="delegates to keras.constraints.MaxNorm, which the task forbids"),
    wrong("kwargs_dropped", "task4", _CONSTRAINT_HEAD + '''
    def __call__(self, w):
        norms = keras.ops.sqrt(keras.ops.sum(keras.ops.square(w), axis=0, keepdims=True))
        return w * keras.ops.minimum(1.0, self.r / keras.ops.maximum(norms, 1e-12))

    def get_config(self):
        return {"r": self.r}


def max_norm_dense(units, r, **kwargs):
    return keras.layers.Dense(units, kernel_constraint=MaxNormConstraint(r))
''', points={"test_task4": 0}, why="forgets to pass **kwargs on to Dense"),
    wrong("numpy_in_constraint", "task4", _CONSTRAINT_HEAD + '''
    def __call__(self, w):
        w = np.asarray(w)
        norms = np.linalg.norm(w, axis=0, keepdims=True)
        return w * np.minimum(1.0, self.r / np.maximum(norms, 1e-12))
''' + _CONSTRAINT_TAIL, points={"test_task4": 0},
        why="NumPy inside the constraint: works on an eager tensor, not in the compiled step"),
    right("ops_norm_and_partial", "task4", _CONSTRAINT_HEAD + '''
    def __call__(self, w):
        norms = keras.ops.norm(w, axis=0, keepdims=True)
        scale = keras.ops.where(norms > self.r, self.r / (norms + 1e-12), 1.0)
        return w * keras.ops.cast(scale, w.dtype)

    def get_config(self):
        return dict(r=self.r)


def max_norm_dense(units, r, **kwargs):
    layer_type = functools.partial(keras.layers.Dense, kernel_constraint=MaxNormConstraint(r))
    return layer_type(units, **kwargs)
''', why="keras.ops.norm and where, functools.partial for the layer"),
    # ---- task 5: regularize the network ------------------------------------------------------------------
    wrong("extra_layer", "task5", '''
def build_regularized_model():
    return keras.Sequential([keras.Input(shape=(784,)), keras.layers.Dropout(0.2),
                             keras.layers.Dense(256, activation="relu"), keras.layers.Dropout(0.5),
                             keras.layers.Dense(128, activation="relu"), keras.layers.Dropout(0.5),
                             keras.layers.Dense(64, activation="relu"),
                             keras.layers.Dense(10, activation="softmax")])
''', points={"test_task5": 0}, why="adds a hidden layer: the architecture must stay 256-128-10"),
    wrong("same_model_every_call", "task5", '''
_cached = keras.Sequential([keras.Input(shape=(784,)), keras.layers.Dropout(0.2),
                            keras.layers.Dense(256, activation="relu", kernel_initializer="he_normal"),
                            keras.layers.Dropout(0.5),
                            keras.layers.Dense(128, activation="relu", kernel_initializer="he_normal"),
                            keras.layers.Dropout(0.5),
                            keras.layers.Dense(10, activation="softmax")])


def build_regularized_model():
    return _cached
''', points={"test_task5": 0},
        why="returns one global model: the second seed continues training the first"),
    right("explicit_layers_cell_run_twice", "task5", '''
def build_regularized_model():
    layers = [keras.Input(shape=(784,)), keras.layers.Dropout(rate=0.2)]
    for units in [256, 128]:
        layers += [keras.layers.Dense(units, activation="relu", kernel_initializer="he_normal"),
                   keras.layers.Dropout(rate=0.5)]
    return keras.Sequential(layers + [keras.layers.Dense(10, activation="softmax")])


def build_regularized_model():
    layers = [keras.Input(shape=(784,)), keras.layers.Dropout(rate=0.2)]
    for units in [256, 128]:
        layers += [keras.layers.Dense(units, activation="relu", kernel_initializer="he_normal"),
                   keras.layers.Dropout(rate=0.5)]
    return keras.Sequential(layers + [keras.layers.Dense(10, activation="softmax")])

print(build_regularized_model().count_params(), "parameters")
''', why="the same model written as a list, cell pasted twice, a print"),
]
