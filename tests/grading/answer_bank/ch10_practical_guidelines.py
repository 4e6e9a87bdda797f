"""Answer bank for ch10_practical_guidelines (see tests/grading/answer_bank/__init__.py).

Task 4 is graded on a wall-clock budget: entries for it that depend on the
machine's speed (too few epochs, a slow optimizer) are left out; the ones here
fail or pass whatever the speed.
"""

from tests.grading.answer_bank import right, wrong

_SNN = '''
def build_self_normalizing_model(n_hidden=20, n_units=100, dropout_rate=0.05):
    model = keras.Sequential([keras.Input(shape=(784,))])
    for _ in range(n_hidden):
        model.add(keras.layers.Dense(n_units, activation="selu", kernel_initializer=INIT))
    model.add(DROPOUT(dropout_rate))
    model.add(keras.layers.Dense(10, activation="softmax"))
    return model
'''

ENTRIES = [
    # ---- task 1: default deep network ---------------------------------------------------------
    wrong("bias_kept", "task1", '''
def build_default_model(n_hidden=12, n_units=100):
    model = keras.Sequential([keras.Input(shape=(784,))])
    for _ in range(n_hidden):
        model.add(keras.layers.Dense(n_units, kernel_initializer="he_normal"))
        model.add(keras.layers.BatchNormalization())
        model.add(keras.layers.Activation("swish"))
    model.add(keras.layers.Dropout(0.2))
    model.add(keras.layers.Dense(10, activation="softmax"))
    return model
''', points={"test_task1": 0}, why="keeps the Dense bias that BN makes redundant"),
    wrong("activation_before_bn", "task1", '''
def build_default_model(n_hidden=12, n_units=100):
    model = keras.Sequential([keras.Input(shape=(784,))])
    for _ in range(n_hidden):
        model.add(keras.layers.Dense(n_units, activation="swish", kernel_initializer="he_normal",
                                     use_bias=False))
        model.add(keras.layers.BatchNormalization())
    model.add(keras.layers.Dropout(0.2))
    model.add(keras.layers.Dense(10, activation="softmax"))
    return model
''', points={"test_task1": 0}, why="activation inside Dense, before BN, and no Activation layer"),
    wrong("glorot_default", "task1", '''
def build_default_model(n_hidden=12, n_units=100):
    model = keras.Sequential([keras.Input(shape=(784,))])
    for _ in range(n_hidden):
        model.add(keras.layers.Dense(n_units, use_bias=False))
        model.add(keras.layers.BatchNormalization())
        model.add(keras.layers.Activation("swish"))
    model.add(keras.layers.Dropout(0.2))
    model.add(keras.layers.Dense(10, activation="softmax"))
    return model
''', points={"test_task1": 0}, why="keeps Keras' default Glorot initialization"),
    right("variance_scaling_he", "task1", '''
def build_default_model(n_hidden=12, n_units=100):
    layers = [keras.Input(shape=(784,))]
    for _ in range(n_hidden):
        he = keras.initializers.VarianceScaling(scale=2.0, mode="fan_in",
                                                distribution="truncated_normal")
        layers += [keras.layers.Dense(n_units, kernel_initializer=he, use_bias=False),
                   keras.layers.BatchNormalization(), keras.layers.Activation(keras.activations.silu)]
    layers += [keras.layers.Dropout(rate=0.2), keras.layers.Dense(10, activation="softmax")]
    return keras.Sequential(layers)
''', why="He normal written as VarianceScaling(2, fan_in, truncated_normal), silu function"),
    # ---- task 2: standardize -----------------------------------------------------------------------
    wrong("own_statistics", "task2", '''
def standardize(X_train, *others):
    results = []
    for X in (X_train, *others):
        X = np.asarray(X, dtype=np.float64)
        std = X.std(axis=0)
        results.append(((X - X.mean(axis=0)) / np.where(std > 0, std, 1.0)).astype(np.float32))
    return tuple(results)
''', points={"test_task2": 0}, why="each array standardized with its own statistics: leaks"),
    wrong("inplace_float32", "task2", '''
def standardize(X_train, *others):
    X_train = np.asarray(X_train, dtype=np.float32)
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    std[std == 0] = 1.0
    arrays = [np.asarray(X, dtype=np.float32) for X in (X_train, *others)]
    for X in arrays:
        X -= mean
        X /= std
    return tuple(arrays)
''', points={"test_task2": 0}, why="subtracts in place: float32 inputs are not copied by np.asarray"),
    wrong("nan_on_constant_column", "task2", '''
def standardize(X_train, *others):
    X_train = np.asarray(X_train, dtype=np.float64)
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    return tuple(((np.asarray(X, dtype=np.float64) - mean) / std).astype(np.float32)
                 for X in (X_train, *others))
''', points={"test_task2": 0}, why="divides a constant column by 0"),
    right("float32_copy", "task2", '''
def standardize(X_train, *others):
    train = np.array(X_train, dtype=np.float32)
    mu = train.mean(axis=0, dtype=np.float64)
    sigma = train.std(axis=0, dtype=np.float64)
    sigma[sigma == 0] = 1
    out = [((train - mu) / sigma).astype(np.float32)]
    out.extend(((np.array(X, dtype=np.float32) - mu) / sigma).astype(np.float32) for X in others)
    return tuple(out)
''', why="float32 copies, statistics accumulated in float64"),
    # ---- task 3: self-normalizing ------------------------------------------------------------------
    wrong("plain_dropout", "task3", _SNN.replace("INIT", '"lecun_normal"').replace(
        "DROPOUT", "keras.layers.Dropout"), points={"test_task3": 0},
        why="ordinary Dropout: it breaks self-normalization"),
    wrong("he_init_with_selu", "task3", _SNN.replace("INIT", '"he_normal"').replace(
        "DROPOUT", "keras.layers.AlphaDropout"), points={"test_task3": 0},
        why="He initialization: SELU needs LeCun normal (variance 1 / fan_in)"),
    right("variance_scaling_lecun", "task3", _SNN.replace(
        "INIT", 'keras.initializers.VarianceScaling(1.0, "fan_in", "truncated_normal")').replace(
        "DROPOUT", "keras.layers.AlphaDropout"),
        why="LeCun normal written as VarianceScaling(1, fan_in, truncated_normal)"),
    right("lecun_object_and_selu_function", "task3", _SNN.replace(
        "INIT", "keras.initializers.LecunNormal()").replace(
        '"selu"', "keras.activations.selu").replace("DROPOUT", "keras.layers.AlphaDropout"),
        why="initializer and activation as objects"),
    # ---- task 4: training within a budget ----------------------------------------------------------
    wrong("trains_on_test_split", "task4", '''
def train_within_budget(X_train, y_train, X_valid, y_valid, seconds):
    full = load_fashion_mnist()
    X = np.concatenate([X_train, full.X_test.reshape(-1, 784)])
    y = np.concatenate([y_train, full.y_test])
    model = keras.Sequential([keras.Input(shape=(784,)),
                              keras.layers.Dense(256, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(X, y, epochs=1000, batch_size=128, verbose=0,
              callbacks=[TimeBudget(0.8 * seconds)])
    return model
''', points={"test_task4": 0}, why="adds the test images to the training data"),
    wrong("ignores_budget", "task4", '''
def train_within_budget(X_train, y_train, X_valid, y_valid, seconds):
    model = keras.Sequential([keras.Input(shape=(784,)),
                              keras.layers.Dense(256, activation="relu"),
                              keras.layers.Dense(128, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(X_train, y_train, epochs=60, batch_size=128, verbose=0)
    return model
''', points={"test_task4": 0}, why="60 fixed epochs: far beyond any 25-second budget"),
    right("budget_from_entry", "task4", '''
def train_within_budget(X_train, y_train, X_valid, y_valid, seconds):
    start = time.perf_counter()
    model = keras.Sequential([keras.Input(shape=(784,)),
                              keras.layers.Dense(256, activation="relu", kernel_initializer="he_normal"),
                              keras.layers.Dense(128, activation="relu", kernel_initializer="he_normal"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    remaining = seconds - (time.perf_counter() - start)
    model.fit(X_train, y_train, epochs=1000, batch_size=128, verbose=0,
              validation_data=(X_valid, y_valid),
              callbacks=[TimeBudget(0.8 * remaining),
                         keras.callbacks.EarlyStopping(monitor="val_accuracy", patience=3,
                                                       restore_best_weights=True)])
    return model
''', why="the budget counted from the call, not from fit"),
]
