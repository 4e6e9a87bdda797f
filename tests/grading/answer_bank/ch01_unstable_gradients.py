"""Answer bank for ch01_unstable_gradients (issue 16)."""

from tests.grading.answer_bank import right, wrong

ENTRIES = [
    # ---- Task 1: sigmoid_derivative -------------------------------------------------
    wrong("naive_sigmoid", "task1", '''
def sigmoid_derivative(z):
    s = 1 / (1 + np.exp(-np.asarray(z, dtype=np.float64)))
    return s * (1 - s)
''', points={"test_task1": 0},
        why="textbook formula: np.exp(1000) overflows with a RuntimeWarning for z = -1000"),
    wrong("abs_in_place", "task1", '''
def sigmoid_derivative(z):
    z = np.asarray(z, dtype=np.float64)
    z[z < 0] *= -1          # sigma' is even: work with |z|
    e = np.exp(-z)
    return e / (1 + e) ** 2
''', points={"test_task1": 0},
        why="takes |z| in place: np.asarray does not copy a float64 array, so the caller's z changes"),
    wrong("abs_only_in_numerator", "task1", '''
def sigmoid_derivative(z):
    z = np.asarray(z, dtype=np.float64)
    return np.exp(-np.abs(z)) / (1 + np.exp(-z)) ** 2
''', points={"test_task1": 0},
        why="forgets |z| in the denominator: wrong for z < 0 and overflows for z = -1000"),
    right("float32", "task1", '''
def sigmoid_derivative(z):
    z = np.asarray(z, dtype=np.float32)
    e = np.exp(-np.abs(z))
    return e / (1 + e) ** 2
''', why="same stable formula in float32 (the task does not ask for float64)"),
    right("logaddexp", "task1", '''
def sigmoid_derivative(z):
    # log sigma(z) = -log(1 + e^-z), log(1 - sigma(z)) = -log(1 + e^z)
    z = np.asarray(z, dtype=np.float64)
    return np.exp(-np.logaddexp(0.0, z) - np.logaddexp(0.0, -z))
''', why="another stable algebraic form: sigma(z) * sigma(-z) in log space"),
    right("keras_ops", "task1", '''
def sigmoid_derivative(z):
    z = keras.ops.convert_to_tensor(np.asarray(z, dtype="float32"))
    s = keras.ops.sigmoid(z) * keras.ops.sigmoid(-z)
    return keras.ops.convert_to_numpy(s)
''', why="sigma(z) * (1 - sigma(z)) = sigma(z) * sigma(-z) with keras.ops, float32"),
    # ---- Task 2: layer_gradient_norms ----------------------------------------------------
    wrong("library_helper", "task2", '''
def layer_gradient_norms(model, X, y):
    return list(gradient_norms(model, X, y).values())
''', points={"test_task2": 0}, why="calls course_utils.gradient_norms, which the task forbids"),
    wrong("sum_loss", "task2", '''
def layer_gradient_norms(model, X, y):
    kernels = [layer.kernel for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(keras.losses.sparse_categorical_crossentropy(y, model(X, training=True)))
    return [float(tf.norm(g)) for g in tape.gradient(loss, kernels)]
''', points={"test_task2": 0}, why="sums the per-sample losses instead of averaging them"),
    wrong("kernels_and_biases", "task2", '''
def layer_gradient_norms(model, X, y):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(y, model(X, training=True)))
    grads = tape.gradient(loss, model.trainable_variables)
    return [float(tf.norm(g)) for g in grads]
''', points={"test_task2": 0, "test_task3": 0},
        why="takes every trainable variable (biases too), not only the kernels; task 3 then "
            "divides by the wrong entry and loses its points too"),
    wrong("inference_mode", "task2", '''
def layer_gradient_norms(model, X, y):
    kernels = [layer.kernel for layer in model.layers if isinstance(layer, keras.layers.Dense)]
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(y, model(X)))
    return [float(tf.norm(g)) for g in tape.gradient(loss, kernels)]
''', points={"test_task2": 0},
        why="calls the model in inference mode: wrong as soon as the model has dropout or BN"),
    right("trainable_weights_by_id", "task2", '''
def layer_gradient_norms(model, X, y):
    X = tf.convert_to_tensor(np.asarray(X, dtype="float32"))
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    kernels = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.Dense):
            kernels.append(layer.kernel)
    with tf.GradientTape() as tape:
        loss = loss_fn(y, model(X, training=True))
    grads = tape.gradient(loss, kernels)
    norms = [float(np.sqrt(np.sum(np.square(g.numpy().astype(np.float64))))) for g in grads]
    print("norms:", norms)
    return norms
''', why="loss object (mean by default), NumPy norms, printed output"),
    # ---- Task 3: diagnosis ---------------------------------------------------------------
    wrong("output_layer_ratio", "task3", '''
norms_a = layer_gradient_norms(model_a, X_probe, y_probe)
norms_b = layer_gradient_norms(model_b, X_probe, y_probe)
ratio_a = norms_a[0] / norms_a[-1]
ratio_b = norms_b[0] / norms_b[-1]
vanishing = "a" if ratio_a < ratio_b else "b"
''', points={"test_task3": 0}, why="divides by the output layer's norm, not the last hidden layer's"),
    wrong("inverted_ratio", "task3", '''
norms_a = layer_gradient_norms(model_a, X_probe, y_probe)
norms_b = layer_gradient_norms(model_b, X_probe, y_probe)
ratio_a = norms_a[-2] / norms_a[0]
ratio_b = norms_b[-2] / norms_b[0]
vanishing = "a" if ratio_a > ratio_b else "b"
''', points={"test_task3": 0}, why="last hidden / first instead of first / last hidden"),
    wrong("hard_coded_printed", "task3", '''
ratio_a, ratio_b = 0.05, 1e-5
vanishing = "b"
''', points={"test_task3": 0}, why="hard-coded rounded numbers instead of computing them"),
    right("numpy_twice", "task3", '''
norms = {name: np.array(layer_gradient_norms(m, X_probe, y_probe))
         for name, m in [("a", model_a), ("b", model_b)]}
ratio_a = float(norms["a"][0] / norms["a"][-2])
ratio_b = float(norms["b"][0] / norms["b"][-2])
vanishing = min(["a", "b"], key=lambda k: {"a": ratio_a, "b": ratio_b}[k])
# run twice: same answer
norms = {name: np.array(layer_gradient_norms(m, X_probe, y_probe))
         for name, m in [("a", model_a), ("b", model_b)]}
ratio_a = float(norms["a"][0] / norms["a"][-2])
ratio_b = float(norms["b"][0] / norms["b"][-2])
vanishing = min(["a", "b"], key=lambda k: {"a": ratio_a, "b": ratio_b}[k])
''', why="NumPy arrays, a dict, min with a key; the code run twice"),
    # ---- Task 4: a deep network that trains ------------------------------------------------
    wrong("sigmoid_glorot", "task4", '''
def build_deep_mlp(n_layers=20):
    model = keras.Sequential([keras.Input(shape=(784,))])
    for _ in range(n_layers):
        model.add(keras.layers.Dense(100, activation="sigmoid"))
    model.add(keras.layers.Dense(10, activation="softmax"))
    return model
''', points={"test_task4": 0}, why="sigmoid: the very network whose gradients vanish"),
    wrong("off_by_one_layers", "task4", '''
def build_deep_mlp(n_layers=20):
    model = keras.Sequential([keras.Input(shape=(784,))])
    for _ in range(n_layers - 1):   # the output layer is a layer too
        model.add(keras.layers.Dense(100, activation="tanh", kernel_initializer="glorot_uniform"))
    model.add(keras.layers.Dense(10, activation="softmax"))
    return model
''', points={"test_task4": 0}, why="n_layers - 1 hidden layers: counts the output layer as hidden"),
    wrong("shared_layers", "task4", '''
_hidden = [keras.layers.Dense(100, activation="tanh", kernel_initializer="glorot_uniform")
           for _ in range(64)]
_output = keras.layers.Dense(10, activation="softmax")

def build_deep_mlp(n_layers=20):
    return keras.Sequential([keras.Input(shape=(784,))] + _hidden[:n_layers] + [_output])
''', points={"test_task4": 0},
        why="builds the layers once: every model it returns shares its weights with the others"),
    right("tanh_variance_scaling", "task4", '''
def build_deep_mlp(n_layers=20):
    model = keras.Sequential([keras.Input(shape=(784,))])
    for _ in range(n_layers):
        model.add(keras.layers.Dense(
            100, activation=keras.activations.tanh,
            kernel_initializer=keras.initializers.VarianceScaling(
                scale=1.0, mode="fan_avg", distribution="uniform")))
    model.add(keras.layers.Dense(10, activation="softmax"))
    return model
''', why="tanh with Glorot uniform written as VarianceScaling, activation as a function"),
    right("tanh_glorot_normal_list", "task4", '''
def build_deep_mlp(n_layers=20):
    layers = [keras.Input(shape=(784,))]
    layers += [keras.layers.Dense(100, activation="tanh",
                                  kernel_initializer=keras.initializers.GlorotNormal())
               for _ in range(n_layers)]
    layers.append(keras.layers.Dense(10, activation="softmax"))
    print(f"{n_layers} hidden layers")
    return keras.Sequential(layers)
''', why="tanh with Glorot normal objects, built from a list, printed output"),
]
