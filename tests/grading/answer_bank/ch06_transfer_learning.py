"""Answer bank for ch06_transfer_learning (see tests/grading/answer_bank/__init__.py)."""

from tests.grading.answer_bank import right, wrong

ENTRIES = [
    # ---- task 1: build model B on a copy of model A -------------------------------------
    wrong("shared_layers", "task1", '''
def build_model_b(model_a):
    return keras.Sequential([keras.Input(shape=(784,)), *model_a.layers[:-1],
                             keras.layers.Dense(1, activation="sigmoid")])
''', points={"test_task1": 0, "test_task3": 0},
        why="reuses model A's layer objects: training B trains A (task 3 then changes A too)"),
    wrong("functional_on_a", "task1", '''
def build_model_b(model_a):
    features = model_a.layers[-2].output
    return keras.Model(model_a.inputs, keras.layers.Dense(1, activation="sigmoid")(features))
''', points={"test_task1": 0, "test_task3": 0},
        why="a functional model on model A's own graph: not Sequential and shares every layer"),
    wrong("clone_without_weights", "task1", '''
def build_model_b(model_a):
    copy_of_a = keras.models.clone_model(model_a)
    return keras.Sequential([keras.Input(shape=(784,)), *copy_of_a.layers[:-1],
                             keras.layers.Dense(1, activation="sigmoid")])
''', points={"test_task1": 0},
        why="clone_model copies the architecture only: the layers start from fresh random weights"),
    wrong("keeps_softmax_head", "task1", '''
def build_model_b(model_a):
    copy_of_a = clone_with_weights(model_a)
    return keras.Sequential([keras.Input(shape=(784,)), *copy_of_a.layers[:-1],
                             keras.layers.Dense(2, activation="softmax")])
''', points={"test_task1": 0, "test_task3": 0},
        why="two-class softmax head instead of Dense(1, sigmoid): wrong output for binary cross-entropy"),
    right("clone_model_and_set_weights", "task1", '''
def build_model_b(model_a):
    copy_of_a = keras.models.clone_model(model_a)
    copy_of_a.set_weights(model_a.get_weights())
    model_b = keras.Sequential([keras.Input(shape=(784,))])
    for layer in copy_of_a.layers[:-1]:
        model_b.add(layer)
    model_b.add(keras.layers.Dense(1, activation="sigmoid"))
    print("model B has", len(model_b.layers), "layers")
    return model_b
''', why="clone_model + set_weights, layers added one by one, prints"),
    right("rebuilt_from_config", "task1", '''
def build_model_b(model_a):
    layers = []
    for layer in model_a.layers[:-1]:
        new = layer.__class__.from_config(layer.get_config())
        layers.append(new)
    model_b = keras.Sequential([keras.Input(shape=(784,)), *layers,
                                keras.layers.Dense(1, activation="sigmoid")])
    for old, new in zip(model_a.layers[:-1], layers):
        new.set_weights([w.copy() for w in old.get_weights()])
    return model_b
''', why="each layer rebuilt from its config and given copies of A's weights"),
    # ---- task 2: two phases --------------------------------------------------------------
    wrong("freezes_output_too", "task2", '''
def phase_one(model_b, X, y):
    model_b.trainable = False
    model_b.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3),
                    loss="binary_crossentropy")
    return model_b.fit(X, y, epochs=5, batch_size=32, verbose=0)


def phase_two(model_b, X, y):
    model_b.trainable = True
    model_b.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-4),
                    loss="binary_crossentropy")
    return model_b.fit(X, y, epochs=5, batch_size=32, verbose=0)
''', points={"test_task2": 0},
        why="model.trainable = False freezes the new output layer as well: phase one learns nothing"),
    wrong("same_rate_in_phase_two", "task2", '''
def phase_one(model_b, X, y):
    for layer in model_b.layers[:-1]:
        layer.trainable = False
    model_b.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3),
                    loss="binary_crossentropy")
    return model_b.fit(X, y, epochs=5, batch_size=32, verbose=0)


def phase_two(model_b, X, y):
    for layer in model_b.layers:
        layer.trainable = True
    model_b.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3),
                    loss="binary_crossentropy")
    return model_b.fit(X, y, epochs=5, batch_size=32, verbose=0)
''', points={"test_task2": 0},
        why="fine-tunes with the phase-one rate instead of the lower 1e-4"),
    wrong("no_recompile_after_unfreeze", "task2", '''
def phase_one(model_b, X, y):
    for layer in model_b.layers[:-1]:
        layer.trainable = False
    model_b.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3),
                    loss="binary_crossentropy")
    return model_b.fit(X, y, epochs=5, batch_size=32, verbose=0)


def phase_two(model_b, X, y):
    for layer in model_b.layers:
        layer.trainable = True
    model_b.optimizer.learning_rate.assign(1e-4)
    return model_b.fit(X, y, epochs=5, batch_size=32, verbose=0)
''', points={"test_task2": 0},
        why="unfreezes and lowers the rate but does not compile again: the reused layers stay frozen"),
    right("loss_object_and_positional_rate", "task2", '''
def phase_one(model_b, X, y):
    for layer in model_b.layers:
        layer.trainable = layer is model_b.layers[-1]
    model_b.compile(keras.optimizers.Adam(0.001), keras.losses.BinaryCrossentropy())
    return model_b.fit(X, y, epochs=5, batch_size=32, verbose=0)


def phase_two(model_b, X, y):
    for layer in model_b.layers:
        layer.trainable = True
    model_b.compile(keras.optimizers.Adam(0.0001), keras.losses.BinaryCrossentropy())
    return model_b.fit(X, y, epochs=5, batch_size=32, verbose=0)
''', why="a BinaryCrossentropy object, rates written 0.001/0.0001 and positional arguments"),
    right("cell_run_twice", "task2", '''
def phase_one(model_b, X, y):
    for layer in model_b.layers[:-1]:
        layer.trainable = False
    model_b.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3),
                    loss=keras.losses.binary_crossentropy)
    return model_b.fit(X, y, epochs=5, batch_size=32, verbose=0)


def phase_two(model_b, X, y):
    for layer in model_b.layers:
        layer.trainable = True
    model_b.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-4),
                    loss=keras.losses.binary_crossentropy)
    return model_b.fit(X, y, epochs=5, batch_size=32, verbose=0)


def phase_one(model_b, X, y):
    for layer in model_b.layers[:-1]:
        layer.trainable = False
    model_b.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3),
                    loss=keras.losses.binary_crossentropy)
    return model_b.fit(X, y, epochs=5, batch_size=32, verbose=0)


def phase_two(model_b, X, y):
    for layer in model_b.layers:
        layer.trainable = True
    model_b.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-4),
                    loss=keras.losses.binary_crossentropy)
    return model_b.fit(X, y, epochs=5, batch_size=32, verbose=0)
''', why="the loss as a function object, and the cell's code pasted twice"),
    # ---- task 3: a model B that works for any seed ---------------------------------------
    wrong("trains_on_test_split", "task3", '''
def train_model_b(model_a, seed):
    keras.utils.set_random_seed(seed)
    X = np.concatenate([task_b.X_train, task_b.X_test])
    y = np.concatenate([task_b.y_train, task_b.y_test])
    model_b = build_model_b(model_a)
    phase_one(model_b, X, y)
    phase_two(model_b, X, y)
    return model_b
''', points={"test_task3": 0},
        why="adds the test images to the 200 training images: the task forbids it"),
    wrong("frozen_head_only", "task3", '''
def train_model_b(model_a, seed):
    keras.utils.set_random_seed(seed)
    model_b = build_model_b(model_a)
    phase_one(model_b, task_b.X_train, task_b.y_train)
    return model_b
''', points={"test_task3": 0},
        why="stops after 5 epochs of phase one: never fine-tunes"),
    right("one_fit_per_phase_longer", "task3", '''
def train_model_b(model_a, seed):
    keras.utils.set_random_seed(seed)
    model_b = build_model_b(model_a)
    for layer in model_b.layers[:-1]:
        layer.trainable = False
    model_b.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy")
    model_b.fit(task_b.X_train, task_b.y_train, epochs=10, batch_size=32, verbose=0)
    for layer in model_b.layers:
        layer.trainable = True
    model_b.compile(optimizer=keras.optimizers.Adam(1e-4), loss="binary_crossentropy")
    model_b.fit(task_b.X_train, task_b.y_train, epochs=10, batch_size=32, verbose=0)
    return model_b
''', why="the two phases written inline, 10 epochs each"),
    right("validation_split_of_train", "task3", '''
def train_model_b(model_a, seed):
    keras.utils.set_random_seed(seed)
    X = np.asarray(task_b.X_train, dtype=np.float32)
    y = np.asarray(task_b.y_train, dtype=np.float32)
    model_b = build_model_b(model_a)
    for _ in range(2):
        phase_one(model_b, X, y)
    for _ in range(3):
        phase_two(model_b, X, y)
    print("trained on", len(X), "images")
    return model_b
''', why="float32 labels, loops, one more fine-tuning round, prints"),
]
