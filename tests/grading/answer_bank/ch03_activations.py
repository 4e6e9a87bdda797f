"""Answer bank for ch03_activations (issue 16)."""

from tests.grading.answer_bank import right, wrong

_MISH = '''
@keras.saving.register_keras_serializable(package="ch03")
class Mish(keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)

    def call(self, inputs):
        return inputs * keras.ops.tanh(keras.ops.softplus(inputs))
'''

ENTRIES = [
    # ---- Task 1: ELU and its derivative ----------------------------------------------------
    wrong("where_overflows", "task1", '''
def elu(z, alpha=1.0):
    z = np.asarray(z, dtype=np.float64)
    return np.where(z > 0, z, alpha * (np.exp(z) - 1))


def elu_derivative(z, alpha=1.0):
    z = np.asarray(z, dtype=np.float64)
    return np.where(z > 0, 1.0, alpha * np.exp(z))
''', points={"test_task1": 0}, why="np.where evaluates np.exp(1000): overflow warning"),
    wrong("derivative_forgets_alpha", "task1", '''
def elu(z, alpha=1.0):
    z = np.asarray(z, dtype=np.float64)
    return np.where(z > 0, z, alpha * np.expm1(np.minimum(z, 0.0)))


def elu_derivative(z, alpha=1.0):
    z = np.asarray(z, dtype=np.float64)
    return np.where(z > 0, 1.0, np.exp(np.minimum(z, 0.0)))
''', points={"test_task1": 0}, why="the derivative's negative branch forgets alpha"),
    wrong("elu_in_place", "task1", '''
def elu(z, alpha=1.0):
    z = np.asarray(z, dtype=np.float64)
    negative = z <= 0
    z[negative] = alpha * np.expm1(z[negative])
    return z


def elu_derivative(z, alpha=1.0):
    z = np.asarray(z, dtype=np.float64)
    return np.where(z > 0, 1.0, alpha * np.exp(np.minimum(z, 0.0)))
''', points={"test_task1": 0}, why="writes into z: np.asarray does not copy a float64 array"),
    right("float32_mask_copy", "task1", '''
def elu(z, alpha=1.0):
    out = np.array(z, dtype=np.float32)
    negative = out <= 0
    out[negative] = alpha * np.expm1(out[negative])
    return out


def elu_derivative(z, alpha=1.0):
    z = np.asarray(z, dtype=np.float32)
    return np.where(z > 0, np.float32(1), elu(z, alpha) + np.float32(alpha))
''', why="float32, a masked copy, and ELU'(z) = ELU(z) + alpha for z <= 0"),
    # ---- Task 2: Mish layer ---------------------------------------------------------------
    wrong("keras_mish", "task2", '''
@keras.saving.register_keras_serializable(package="ch03")
class Mish(keras.layers.Layer):
    def call(self, inputs):
        return keras.activations.mish(inputs)
''', points={"test_task2": 0}, why="calls keras.activations.mish, which the task forbids"),
    wrong("not_registered", "task2", '''
class Mish(keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)

    def call(self, inputs):
        return inputs * keras.ops.tanh(keras.ops.softplus(inputs))
''', points={"test_task2": 0}, why="not registered: a saved model does not load back"),
    wrong("no_kwargs", "task2", '''
@keras.saving.register_keras_serializable(package="ch03")
class Mish(keras.layers.Layer):
    def __init__(self):
        super().__init__()

    def call(self, inputs):
        return inputs * keras.ops.tanh(keras.ops.softplus(inputs))
''', points={"test_task2": 0}, why="__init__ drops **kwargs: from_config(name=..., dtype=...) fails"),
    wrong("numpy_call", "task2", '''
@keras.saving.register_keras_serializable(package="ch03")
class Mish(keras.layers.Layer):
    def call(self, inputs):
        x = np.asarray(inputs)
        return keras.ops.convert_to_tensor(x * np.tanh(np.logaddexp(0, x)))
''', points={"test_task2": 0}, why="NumPy inside call: no gradient, no symbolic tensors"),
    right("tf_ops_get_config", "task2", '''
@keras.saving.register_keras_serializable(package="ch03")
class Mish(keras.layers.Layer):
    """Mish(z) = z * tanh(softplus(z))."""

    def call(self, inputs):
        return inputs * tf.math.tanh(tf.math.softplus(inputs))

    def get_config(self):
        return super().get_config()
''', why="TensorFlow ops, no __init__, explicit get_config"),
    right("stable_softplus_by_hand", "task2", '''
@keras.saving.register_keras_serializable(package="ch03")
class Mish(keras.layers.Layer):
    def __init__(self, name=None, **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, inputs):
        ops = keras.ops
        softplus = ops.relu(inputs) + ops.log1p(ops.exp(-ops.abs(inputs)))
        return inputs * ops.tanh(softplus)
''', why="softplus written as relu(z) + log1p(exp(-|z|))"),
    # ---- Task 3: RReLU ----------------------------------------------------------------------
    wrong("one_slope", "task3", '''
def rrelu(z, lower=1 / 8, upper=1 / 3, training=False, rng=None):
    if lower > upper or lower < 0:
        raise ValueError(f"need 0 <= lower <= upper, got {lower}, {upper}")
    z = np.asarray(z, dtype=np.float64)
    if training:
        rng = rng or np.random.default_rng()
        slope = rng.uniform(lower, upper)
    else:
        slope = (lower + upper) / 2
    return np.where(z >= 0, z, slope * z)
''', points={"test_task3": 0}, why="one slope for the whole array instead of one per entry"),
    wrong("random_at_inference", "task3", '''
def rrelu(z, lower=1 / 8, upper=1 / 3, training=False, rng=None):
    if lower > upper or lower < 0:
        raise ValueError(f"need 0 <= lower <= upper, got {lower}, {upper}")
    z = np.asarray(z, dtype=np.float64)
    rng = rng or np.random.default_rng()
    slope = rng.uniform(lower, upper, size=z.shape)
    return np.where(z >= 0, z, slope * z)
''', points={"test_task3": 0}, why="draws random slopes at inference too"),
    wrong("rrelu_in_place", "task3", '''
def rrelu(z, lower=1 / 8, upper=1 / 3, training=False, rng=None):
    if lower > upper or lower < 0:
        raise ValueError(f"need 0 <= lower <= upper, got {lower}, {upper}")
    z = np.asarray(z, dtype=np.float64)
    negative = z < 0
    if training:
        rng = rng or np.random.default_rng()
        z[negative] *= rng.uniform(lower, upper, size=int(negative.sum()))
    else:
        z[negative] *= (lower + upper) / 2
    return z
''', points={"test_task3": 0}, why="multiplies z in place: the caller's float64 array changes"),
    wrong("no_validation", "task3", '''
def rrelu(z, lower=1 / 8, upper=1 / 3, training=False, rng=None):
    z = np.asarray(z, dtype=np.float64)
    if training:
        rng = rng or np.random.default_rng()
        slope = rng.uniform(lower, upper, size=z.shape)
    else:
        slope = (lower + upper) / 2
    return np.where(z >= 0, z, slope * z)
''', points={"test_task3": 0}, why="no ValueError for lower > upper or lower < 0"),
    right("slopes_for_negatives_only", "task3", '''
def rrelu(z, lower=1 / 8, upper=1 / 3, training=False, rng=None):
    if lower < 0 or lower > upper:
        raise ValueError(f"Expected 0 <= lower <= upper, received lower={lower}, upper={upper}")
    out = np.array(z, dtype=np.float64)
    negative = out < 0
    if training:
        if rng is None:
            rng = np.random.default_rng()
        out[negative] *= rng.uniform(lower, upper, size=int(negative.sum()))
    else:
        out[negative] *= (lower + upper) / 2
    return out
''', why="draws one slope per negative entry only, on a copy"),
    right("float32_maximum", "task3", '''
def rrelu(z, lower=1 / 8, upper=1 / 3, training=False, rng=None):
    if lower < 0 or lower > upper:
        raise ValueError(f"lower must be in [0, upper], got lower={lower}, upper={upper}")
    z = np.asarray(z, dtype=np.float32)
    if training:
        slope = (rng if rng is not None else np.random.default_rng()).uniform(
            lower, upper, size=z.shape).astype(np.float32)
    else:
        slope = np.float32((lower + upper) / 2)
    return np.maximum(z, 0) + slope * np.minimum(z, 0)
''', why="float32, max(z, 0) + a * min(z, 0)"),
    # ---- Task 4: dead units -----------------------------------------------------------------
    wrong("any_instead_of_all", "task4", '''
def dead_fraction(model, X, layer_name):
    layer = model.get_layer(layer_name)
    x = keras.Model(model.inputs, layer.input).predict(X, verbose=0)
    W, b = layer.get_weights()
    return float(np.mean(np.any(x @ W + b <= 0, axis=0)))
''', points={"test_task4": 0}, why="a unit that is inactive on ANY example counted as dead"),
    wrong("fraction_of_zeros", "task4", '''
def dead_fraction(model, X, layer_name):
    layer = model.get_layer(layer_name)
    x = keras.Model(model.inputs, layer.input).predict(X, verbose=0)
    W, b = layer.get_weights()
    return float(np.mean(x @ W + b <= 0))
''', points={"test_task4": 0}, why="the fraction of zero activations, not of dead units"),
    right("relu_output_zero", "task4", '''
def dead_fraction(model, X, layer_name):
    layer = model.get_layer(layer_name)
    out = keras.Model(model.inputs, layer.output).predict(X, verbose=0)
    # relu(z) == 0 exactly when z <= 0
    return float(np.mean(np.all(out == 0, axis=0)))
''', why="for a ReLU layer, a unit whose output is 0 on every example is dead"),
    right("manual_forward", "task4", '''
def dead_fraction(model, X, layer_name):
    x = keras.ops.convert_to_tensor(np.asarray(X, dtype="float32"))
    for layer in model.layers:
        if layer.name == layer_name:
            W, b = (np.asarray(w, dtype=np.float64) for w in layer.get_weights())
            z = np.asarray(x, dtype=np.float64) @ W + b
            return float((z.max(axis=0) <= 0).mean())
        x = layer(x)
    raise ValueError(f"no layer called {layer_name!r}")
''', why="runs the layers by hand up to the named layer; max over examples <= 0"),
    # ---- Task 5: SELU -------------------------------------------------------------------------
    wrong("valid_own_statistics", "task5", '''
pixel_mean = X_train.mean(axis=0)
pixel_std = X_train.std(axis=0)
X_train_std = (X_train - pixel_mean) / (pixel_std + 1e-7)
X_valid_std = (X_valid - X_valid.mean(axis=0)) / (X_valid.std(axis=0) + 1e-7)


def build_selu_mlp(n_hidden, n_units=100):
    model = keras.Sequential([keras.Input(shape=(784,))])
    for _ in range(n_hidden):
        model.add(keras.layers.Dense(n_units, activation="selu", kernel_initializer="lecun_normal"))
    model.add(keras.layers.Dense(10, activation="softmax"))
    return model
''', points={"test_task5": 0}, why="standardizes the validation set with its own statistics"),
    wrong("he_normal", "task5", '''
pixel_mean = X_train.mean(axis=0)
pixel_std = X_train.std(axis=0)
X_train_std = (X_train - pixel_mean) / (pixel_std + 1e-7)
X_valid_std = (X_valid - pixel_mean) / (pixel_std + 1e-7)


def build_selu_mlp(n_hidden, n_units=100):
    model = keras.Sequential([keras.Input(shape=(784,))])
    for _ in range(n_hidden):
        model.add(keras.layers.Dense(n_units, activation="selu", kernel_initializer="he_normal"))
    model.add(keras.layers.Dense(10, activation="softmax"))
    return model
''', points={"test_task5": 0}, why="He initialization: SELU needs LeCun normal"),
    wrong("global_statistics", "task5", '''
pixel_mean = X_train.mean()
pixel_std = X_train.std()
X_train_std = (X_train - pixel_mean) / (pixel_std + 1e-7)
X_valid_std = (X_valid - pixel_mean) / (pixel_std + 1e-7)


def build_selu_mlp(n_hidden, n_units=100):
    model = keras.Sequential([keras.Input(shape=(784,))])
    for _ in range(n_hidden):
        model.add(keras.layers.Dense(n_units, activation="selu", kernel_initializer="lecun_normal"))
    model.add(keras.layers.Dense(10, activation="softmax"))
    return model
''', points={"test_task5": 0}, why="one mean and std for all pixels instead of per pixel"),
    wrong("in_place_standardization", "task5", '''
pixel_mean = X_train.mean(axis=0)
pixel_std = X_train.std(axis=0)
X_train_std = X_train
X_train_std -= pixel_mean
X_train_std /= pixel_std + 1e-7
X_valid_std = (X_valid - pixel_mean) / (pixel_std + 1e-7)


def build_selu_mlp(n_hidden, n_units=100):
    model = keras.Sequential([keras.Input(shape=(784,))])
    for _ in range(n_hidden):
        model.add(keras.layers.Dense(n_units, activation="selu", kernel_initializer="lecun_normal"))
    model.add(keras.layers.Dense(10, activation="softmax"))
    return model
''', points={"test_task5": 0}, why="X_train_std is X_train: standardizes X_train in place"),
    right("variance_scaling_float64", "task5", '''
pixel_mean = np.mean(X_train, axis=0, dtype=np.float64)
pixel_std = np.std(X_train, axis=0, dtype=np.float64)
X_train_std = (X_train - pixel_mean) / (pixel_std + 1e-7)
X_valid_std = (X_valid - pixel_mean) / (pixel_std + 1e-7)


def build_selu_mlp(n_hidden, n_units=100):
    layers = [keras.Input(shape=(784,))]
    for _ in range(n_hidden):
        layers.append(keras.layers.Dense(
            n_units, activation=keras.activations.selu,
            kernel_initializer=keras.initializers.VarianceScaling(
                scale=1.0, mode="fan_in", distribution="truncated_normal")))
    layers.append(keras.layers.Dense(10, activation="softmax"))
    return keras.Sequential(layers)
''', why="float64 statistics, LeCun normal written as VarianceScaling, selu as a function"),
    right("lecun_object_run_twice", "task5", '''
mean, std = X_train.mean(axis=0), X_train.std(axis=0)
X_train_std = (X_train - mean) / (std + 1e-7)
X_valid_std = (X_valid - mean) / (std + 1e-7)


def build_selu_mlp(n_hidden, n_units=100):
    model = keras.Sequential([keras.Input(shape=(784,))])
    for _ in range(n_hidden):
        model.add(keras.layers.Dense(n_units, activation="selu",
                                     kernel_initializer=keras.initializers.LecunNormal()))
    model.add(keras.layers.Dense(10, activation="softmax"))
    return model

# the cell run a second time
mean, std = X_train.mean(axis=0), X_train.std(axis=0)
X_train_std = (X_train - mean) / (std + 1e-7)
X_valid_std = (X_valid - mean) / (std + 1e-7)
''', why="LecunNormal objects, other variable names, code run twice"),
]
