"""Answer bank for ch02_initialization (issue 16)."""

from tests.grading.answer_bank import right, wrong

ENTRIES = [
    # ---- Task 1: fans -------------------------------------------------------------------
    wrong("ignores_receptive_field", "task1", '''
def fans(shape):
    return int(shape[-2]), int(shape[-1])
''', points={"test_task1": 0}, why="right for Dense kernels, forgets the receptive field of a convolution"),
    wrong("swapped_fans", "task1", '''
def fans(shape):
    receptive_field = math.prod(shape[:-2])
    return receptive_field * shape[-1], receptive_field * shape[-2]
''', points={"test_task1": 0}, why="fan_in and fan_out swapped"),
    wrong("first_two_dims", "task1", '''
def fans(shape):
    return shape[0], shape[1]
''', points={"test_task1": 0}, why="reads the first two dimensions: a conv kernel's spatial sizes"),
    right("numpy_prod_list", "task1", '''
def fans(shape):
    shape = list(shape)
    fan_in = int(np.prod(shape[:-1]))
    fan_out = int(np.prod(shape[:-2], dtype=np.int64)) * int(shape[-1])
    return fan_in, fan_out
''', why="NumPy products converted to int: fan_in is the product of all but the last dimension"),
    # ---- Task 2: He std and Glorot limit --------------------------------------------------
    wrong("truncated_stddev_parameter", "task2", '''
def he_normal_std(fan_in):
    return math.sqrt(2.0 / fan_in) / 0.87962566103423978


def glorot_uniform_limit(fan_in, fan_out):
    return math.sqrt(6.0 / (fan_in + fan_out))
''', points={"test_task2": 0},
        why="returns the stddev parameter of the truncated normal, not the weights' std"),
    wrong("glorot_std_not_limit", "task2", '''
def he_normal_std(fan_in):
    return math.sqrt(2.0 / fan_in)


def glorot_uniform_limit(fan_in, fan_out):
    return math.sqrt(2.0 / (fan_in + fan_out))
''', points={"test_task2": 0}, why="returns the Glorot standard deviation instead of the uniform limit"),
    wrong("glorot_fan_in_only", "task2", '''
def he_normal_std(fan_in):
    return math.sqrt(2.0 / fan_in)


def glorot_uniform_limit(fan_in, fan_out):
    return math.sqrt(6.0 / fan_in)
''', points={"test_task2": 0}, why="uses fan_in alone for Glorot: ignores fan_out"),
    right("float32_and_powers", "task2", '''
def he_normal_std(fan_in):
    return float(np.sqrt(np.float32(2.0) / np.float32(fan_in)))


def glorot_uniform_limit(fan_in, fan_out):
    return float((6 / (fan_in + fan_out)) ** 0.5)
''', why="float32 arithmetic for He; sqrt(6 / (fan_in + fan_out)) for Glorot"),
    # ---- Task 3: pick_initializer ------------------------------------------------------------
    wrong("relu_only", "task3", '''
def pick_initializer(activation):
    if activation == "relu":
        return "he_normal"
    if activation == "selu":
        return "lecun_normal"
    return "glorot_uniform"
''', points={"test_task3": 0, "test_task4": 0},
        why="only ReLU gets He: the ReLU variants (ELU, GELU, Swish...) are missed; task 4 uses it and loses its points too"),
    wrong("selu_gets_he", "task3", '''
def pick_initializer(activation):
    if activation in ("relu", "leaky_relu", "elu", "gelu", "swish", "mish", "selu"):
        return "he_normal"
    return "glorot_uniform"
''', points={"test_task3": 0, "test_task4": 0},
        why="SELU needs LeCun normal; task 4 uses it and loses its points too"),
    wrong("lower_on_none", "task3", '''
def pick_initializer(activation):
    activation = activation.lower()
    if activation == "selu":
        return "lecun_normal"
    if activation in ("relu", "leaky_relu", "elu", "gelu", "swish", "mish"):
        return "he_normal"
    return "glorot_uniform"
''', points={"test_task3": 0}, why="crashes on activation=None"),
    right("dict_lookup", "task3", '''
_TABLE = {"selu": "lecun_normal"}
_TABLE.update(dict.fromkeys(["relu", "leaky_relu", "elu", "gelu", "swish", "silu", "mish"],
                            "he_normal"))

def pick_initializer(activation):
    name = _TABLE.get(activation, "glorot_uniform")
    print(f"{activation!s:>10} -> {name}")
    return name
''', why="a dict with a default, and printed output"),
    # ---- Task 4: a deep network that keeps its scale -------------------------------------------
    wrong("default_initializer", "task4", '''
def build_deep_mlp(activation, n_layers=30):
    model = keras.Sequential([keras.Input(shape=(784,))])
    for _ in range(n_layers):
        model.add(keras.layers.Dense(100, activation=activation))
    model.add(keras.layers.Dense(10, activation="softmax"))
    return model
''', points={"test_task4": 0}, why="keeps Keras' default (Glorot uniform): ReLU activations shrink"),
    wrong("initializer_on_output_only", "task4", '''
def build_deep_mlp(activation, n_layers=30):
    model = keras.Sequential([keras.Input(shape=(784,))])
    for _ in range(n_layers):
        model.add(keras.layers.Dense(100, activation=activation))
    model.add(keras.layers.Dense(10, activation="softmax",
                                 kernel_initializer=pick_initializer(activation)))
    return model
''', points={"test_task4": 0}, why="puts the matching initializer on the output layer, not the hidden ones"),
    wrong("shared_layers", "task4", '''
_cache = {}

def build_deep_mlp(activation, n_layers=30):
    if activation not in _cache:
        _cache[activation] = [keras.layers.Dense(100, activation=activation,
                                                 kernel_initializer=pick_initializer(activation))
                              for _ in range(100)]
    hidden = _cache[activation][:n_layers]
    return keras.Sequential([keras.Input(shape=(784,))] + hidden
                            + [keras.layers.Dense(10, activation="softmax")])
''', points={"test_task4": 0}, why="reuses cached layers: the models it returns share their hidden layers"),
    right("variance_scaling_objects", "task4", '''
def _initializer(name):
    scale, mode, distribution = {
        "he_normal": (2.0, "fan_in", "truncated_normal"),
        "lecun_normal": (1.0, "fan_in", "truncated_normal"),
        "glorot_uniform": (1.0, "fan_avg", "uniform"),
    }[name]
    return keras.initializers.VarianceScaling(scale=scale, mode=mode, distribution=distribution)


def build_deep_mlp(activation, n_layers=30):
    layers = [keras.Input(shape=(784,))]
    for _ in range(n_layers):
        layers.append(keras.layers.Dense(100, activation=activation,
                                         kernel_initializer=_initializer(pick_initializer(activation))))
    layers.append(keras.layers.Dense(10, activation="softmax"))
    return keras.Sequential(layers)
''', why="the same initializers written as VarianceScaling objects, one per layer"),
    right("initializers_get", "task4", '''
def build_deep_mlp(activation, n_layers=30):
    model = keras.Sequential()
    model.add(keras.Input(shape=(784,)))
    for _ in range(n_layers):
        init = keras.initializers.get(pick_initializer(activation))
        model.add(keras.layers.Dense(units=100, activation=activation, kernel_initializer=init))
    model.add(keras.layers.Dense(10, activation="softmax"))
    return model
''', why="initializer objects from keras.initializers.get"),
]
