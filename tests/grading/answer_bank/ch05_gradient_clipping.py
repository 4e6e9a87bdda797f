"""Answer bank for ch05_gradient_clipping (issue 16)."""

from tests.grading.answer_bank import right, wrong

ENTRIES = [
    # ---- Task 1: clip by value -------------------------------------------------------------
    wrong("in_place", "task1", '''
def clip_value(g, c):
    g = np.asarray(g, dtype=np.float64)
    return np.clip(g, -c, c, out=g)
''', points={"test_task1": 0}, why="clips into g itself: the caller's float64 array changes"),
    wrong("upper_only", "task1", '''
def clip_value(g, c):
    return np.minimum(np.asarray(g, dtype=np.float64), c)
''', points={"test_task1": 0}, why="clips only large positive components"),
    right("float32_clip", "task1", '''
def clip_value(g, c):
    return np.clip(np.asarray(g, dtype=np.float32), -c, c)
''', why="np.clip on a float32 copy"),
    # ---- Task 2: clip by norm ----------------------------------------------------------------
    wrong("always_rescale", "task2", '''
def clip_norm(g, c):
    g = np.array(g, dtype=np.float64)
    return g * c / np.linalg.norm(g)
''', points={"test_task2": 0}, why="rescales to norm c even when the norm is already below c"),
    wrong("in_place_rescale", "task2", '''
def clip_norm(g, c):
    g = np.asarray(g, dtype=np.float64)
    norm = np.sqrt(np.sum(g ** 2))
    if norm > c:
        g *= c / norm
    return g
''', points={"test_task2": 0}, why="rescales g in place: the caller's float64 array changes"),
    wrong("per_row_norm", "task2", '''
def clip_norm(g, c):
    g = np.array(g, dtype=np.float64)
    norms = np.linalg.norm(g, axis=-1, keepdims=True)
    return g * np.minimum(1.0, c / np.maximum(norms, 1e-12))
''', points={"test_task2": 0}, why="one norm per row (last axis) instead of over all components"),
    right("float32_linalg", "task2", '''
def clip_norm(g, c):
    g = np.array(g, dtype=np.float32)
    norm = float(np.linalg.norm(g.ravel()))
    if norm <= c:
        return g.copy()
    return g * np.float32(c / norm)
''', why="float32, np.linalg.norm of the flattened array, an if instead of max"),
    # ---- Task 3: clip by global norm -----------------------------------------------------------
    wrong("per_variable", "task3", '''
def clip_global_norm(grads, c):
    grads = [np.array(g, dtype=np.float64) for g in grads]
    global_norm = float(np.sqrt(sum(np.sum(g ** 2) for g in grads)))
    clipped = [g * min(1.0, c / max(np.linalg.norm(g), 1e-12)) for g in grads]
    return clipped, global_norm
''', points={"test_task3": 0}, why="clips each array by its own norm: changes the direction"),
    wrong("norm_after_clipping", "task3", '''
def clip_global_norm(grads, c):
    grads = [np.array(g, dtype=np.float64) for g in grads]
    global_norm = np.sqrt(sum(np.sum(g ** 2) for g in grads))
    clipped = [g * (c / max(global_norm, c)) for g in grads]
    return clipped, float(np.sqrt(sum(np.sum(g ** 2) for g in clipped)))
''', points={"test_task3": 0}, why="returns the norm after clipping"),
    wrong("tensorflow_helper", "task3", '''
def clip_global_norm(grads, c):
    import tensorflow as tf
    clipped, global_norm = tf.clip_by_global_norm(
        [tf.constant(np.asarray(g, dtype=np.float64)) for g in grads], c)
    return [t.numpy() for t in clipped], float(global_norm)
''', points={"test_task3": 0}, why="calls tf.clip_by_global_norm: the task says NumPy only"),
    right("concatenate_tuple", "task3", '''
def clip_global_norm(grads, c):
    arrays = [np.asarray(g, dtype=np.float64) for g in grads]
    flat = np.concatenate([a.ravel() for a in arrays]) if arrays else np.zeros(0)
    G = float(np.linalg.norm(flat))
    factor = 1.0 if G <= c else c / G
    clipped = [a * factor for a in arrays]
    print(f"global norm {G:.4g}, factor {factor:.4g}")
    return clipped, G
''', why="norm of the concatenated gradients, printed output"),
    # ---- Task 4: rescue a diverging run ----------------------------------------------------------
    wrong("lower_learning_rate", "task4", '''
def make_optimizer():
    return keras.optimizers.SGD(learning_rate=0.01)
''', points={"test_task4": 0}, why="lowers the learning rate instead of clipping"),
    wrong("threshold_too_high", "task4", '''
def make_optimizer():
    return keras.optimizers.SGD(learning_rate=0.4, clipnorm=1000.0)
''', points={"test_task4": 0}, why="a threshold so high that it never clips"),
    wrong("one_shared_optimizer", "task4", '''
_optimizer = keras.optimizers.SGD(learning_rate=0.4, global_clipnorm=1.0)

def make_optimizer():
    return _optimizer
''', points={"test_task4": 0}, why="returns the same optimizer object at each call, not a new one"),
    right("clipnorm", "task4", '''
def make_optimizer():
    return keras.optimizers.SGD(learning_rate=0.4, clipnorm=1.0)
''', why="per-variable norm clipping"),
    right("global_clipnorm_half", "task4", '''
def make_optimizer():
    optimizer = keras.optimizers.SGD(learning_rate=0.4, momentum=0.0, global_clipnorm=0.5)
    return optimizer
''', why="global norm clipping at 0.5"),
]
