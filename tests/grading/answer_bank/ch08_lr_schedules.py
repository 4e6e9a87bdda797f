"""Answer bank for ch08_lr_schedules (see tests/grading/answer_bank/__init__.py)."""

from tests.grading.answer_bank import right, wrong

_ONE_CYCLE_HEAD = '''
from keras import ops


class OneCycle(keras.optimizers.schedules.LearningRateSchedule):
    def __init__(self, total_steps, max_rate):
        super().__init__()
        self.total_steps = total_steps
        self.max_rate = max_rate
'''

_TASK4_TRAIN = '''
model.optimizer.learning_rate.assign(chosen_rate)
history = model.fit(X_train, y_train, epochs=2, batch_size=64,
                    validation_data=(X_valid, y_valid), verbose=0)
'''

ENTRIES = [
    # ---- task 1: exponential decay ----------------------------------------------------------
    wrong("staircase", "task1", '''
def exponential_decay(step, initial_rate, decay_steps, decay_rate):
    t = np.asarray(step, dtype=np.float64)
    return initial_rate * decay_rate ** np.floor(t / decay_steps)
''', points={"test_task1": 0}, why="rounds t / s down: a staircase, which the task excludes"),
    wrong("inplace_float64", "task1", '''
def exponential_decay(step, initial_rate, decay_steps, decay_rate):
    t = np.asarray(step, dtype=np.float64)
    t /= decay_steps
    return initial_rate * decay_rate ** t
''', points={"test_task1": 0},
        why="divides in place: with a float64 array np.asarray does not copy, so `step` changes"),
    wrong("forbidden_helper_alias", "task1", '''
from course_utils.ch08_lr_schedules import schedules as reference


def exponential_decay(step, initial_rate, decay_steps, decay_rate):
    return reference.exponential_decay(step, initial_rate, decay_steps, decay_rate)
''', points={"test_task1": 0}, why="calls course_utils' exponential_decay, which the task forbids"),
    right("float64_from_exp_log", "task1", '''
import math


def exponential_decay(step, initial_rate, decay_steps, decay_rate):
    """The rate at `step`, computed as exp(log(r) t / s)."""
    t = np.array(step, dtype="float64", copy=True)
    return initial_rate * np.exp(math.log(decay_rate) * t / decay_steps)
''', why="exp/log form, copies the input"),
    right("power_of_ratio_cell_run_twice", "task1", '''
def exponential_decay(step, initial_rate, decay_steps, decay_rate):
    return np.float64(initial_rate) * np.power(float(decay_rate), np.divide(step, decay_steps,
                                                                            dtype=np.float64))


def exponential_decay(step, initial_rate, decay_steps, decay_rate):
    return np.float64(initial_rate) * np.power(float(decay_rate), np.divide(step, decay_steps,
                                                                            dtype=np.float64))
''', why="np.power/np.divide with dtype, definition pasted twice"),
    # ---- task 2: 1cycle -------------------------------------------------------------------------
    wrong("rounded_peak", "task2", _ONE_CYCLE_HEAD + '''
    def __call__(self, step):
        t = ops.cast(step, "float32")
        n = float(self.total_steps)
        a = float(round(0.45 * n))
        high = float(self.max_rate)
        low, end = high / 10, high / 1000
        up = low + (high - low) * ops.minimum(t, a) / a
        down = high + (low - high) * ops.clip(t - a, 0.0, a) / a
        last = low + (end - low) * ops.clip(t - 2 * a, 0.0, n - 2 * a) / (n - 2 * a)
        return ops.where(t <= a, up, ops.where(t <= 2 * a, down, last))

    def get_config(self):
        return {"total_steps": self.total_steps, "max_rate": self.max_rate}
''', points={"test_task2": 0}, why="rounds a = 0.45 T to a whole step"),
    wrong("python_if_on_step", "task2", _ONE_CYCLE_HEAD + '''
    def __call__(self, step):
        t = float(step)
        n, high = float(self.total_steps), float(self.max_rate)
        a = 0.45 * n
        rate = float(np.interp(t, [0, a, 2 * a, n], [high / 10, high, high / 10, high / 1000]))
        return ops.convert_to_tensor(rate)

    def get_config(self):
        return {"total_steps": self.total_steps, "max_rate": self.max_rate}
''', points={"test_task2": 0},
        why="float(step) and NumPy: fine eagerly, breaks inside the compiled training step"),
    wrong("wraps_forbidden_schedule", "task2", '''
from keras import ops
from course_utils import OneCycleSchedule as _Reference


class OneCycle(keras.optimizers.schedules.LearningRateSchedule):
    def __init__(self, total_steps, max_rate):
        super().__init__()
        self.total_steps = total_steps
        self.max_rate = max_rate

    def __call__(self, step):
        return _Reference(self.total_steps, self.max_rate)(step)

    def get_config(self):
        return {"total_steps": self.total_steps, "max_rate": self.max_rate}
''', points={"test_task2": 0}, why="delegates to course_utils.OneCycleSchedule under another name"),
    wrong("config_drops_rate", "task2", _ONE_CYCLE_HEAD + '''
    def __call__(self, step):
        t = ops.cast(step, "float32")
        n = float(self.total_steps)
        a = 0.45 * n
        high = float(self.max_rate)
        low, end = high / 10, high / 1000
        up = low + (high - low) * ops.minimum(t, a) / a
        down = high + (low - high) * ops.clip(t - a, 0.0, a) / a
        last = low + (end - low) * ops.clip(t - 2 * a, 0.0, n - 2 * a) / (n - 2 * a)
        return ops.where(t <= a, up, ops.where(t <= 2 * a, down, last))

    def get_config(self):
        return {"total_steps": self.total_steps, "max_rate": 0.1}
''', points={"test_task2": 0}, why="get_config writes a fixed max_rate: from_config builds another schedule"),
    right("interp_with_keras_ops", "task2", _ONE_CYCLE_HEAD + '''
    def __call__(self, step):
        t = ops.cast(step, "float32")
        n, high = float(self.total_steps), float(self.max_rate)
        a = 0.45 * n
        points = [(0.0, high / 10), (a, high), (2 * a, high / 10), (n, high / 1000)]
        rate = ops.convert_to_tensor(high / 1000, dtype="float32") + 0.0 * t
        for (t0, r0), (t1, r1) in reversed(list(zip(points[:-1], points[1:]))):
            segment = r0 + (r1 - r0) * (t - t0) / (t1 - t0)
            rate = ops.where(t <= t1, segment, rate)
        return rate

    def get_config(self):
        config = {"total_steps": self.total_steps, "max_rate": self.max_rate}
        return dict(config)
''', why="one linear piece per segment chosen with ops.where, in a loop"),
    right("tensorflow_ops", "task2", '''
import tensorflow as tf
from keras import ops


class OneCycle(keras.optimizers.schedules.LearningRateSchedule):
    def __init__(self, total_steps, max_rate):
        super().__init__()
        self.total_steps = total_steps
        self.max_rate = max_rate

    def __call__(self, step):
        t = tf.cast(step, tf.float32)
        n, high = float(self.total_steps), float(self.max_rate)
        a = 0.45 * n
        up = high / 10 + (high - high / 10) * t / a
        down = high - (high - high / 10) * (t - a) / a
        last = high / 10 - (high / 10 - high / 1000) * tf.minimum(t - 2 * a, n - 2 * a) / (n - 2 * a)
        return tf.where(t < a, up, tf.where(t < 2 * a, down, last))

    def get_config(self):
        return {"total_steps": self.total_steps, "max_rate": self.max_rate}
''', why="TensorFlow ops instead of keras.ops, strict comparisons"),
    # ---- task 3: piecewise in steps -------------------------------------------------------------
    wrong("boundaries_in_epochs", "task3", '''
def piecewise_schedule(n_samples, batch_size):
    return keras.optimizers.schedules.PiecewiseConstantDecay([2, 4], [0.05, 0.01, 0.002])
''', points={"test_task3": 0}, why="boundaries in epochs: the mistake the task describes"),
    wrong("floor_division", "task3", '''
def piecewise_schedule(n_samples, batch_size):
    steps_per_epoch = n_samples // batch_size
    return keras.optimizers.schedules.PiecewiseConstantDecay(
        [2 * steps_per_epoch - 1, 4 * steps_per_epoch - 1], [0.05, 0.01, 0.002])
''', points={"test_task3": 0}, why="forgets the partial last batch (floor instead of ceiling)"),
    wrong("boundary_off_by_one", "task3", '''
def piecewise_schedule(n_samples, batch_size):
    steps_per_epoch = -(-n_samples // batch_size)
    return keras.optimizers.schedules.PiecewiseConstantDecay(
        [2 * steps_per_epoch, 4 * steps_per_epoch], [0.05, 0.01, 0.002])
''', points={"test_task3": 0}, why="boundary at 2 * steps: the first step of epoch 3 still uses 0.05"),
    right("math_ceil", "task3", '''
import math


def piecewise_schedule(n_samples, batch_size):
    per_epoch = math.ceil(n_samples / batch_size)
    boundaries = [epoch * per_epoch - 1 for epoch in (2, 4)]
    return keras.optimizers.schedules.PiecewiseConstantDecay(boundaries=boundaries,
                                                             values=[5e-2, 1e-2, 2e-3])
''', why="math.ceil and keyword arguments"),
    # ---- task 4: learning-rate finder -------------------------------------------------------------
    wrong("rate_at_minimum", "task4", '''
finder_result = find_learning_rate(model, X_train, y_train, batch_size=64,
                                   min_rate=1e-4, max_rate=10.0)
chosen_rate = float(finder_result.best_rate)
''' + _TASK4_TRAIN, points={"test_task4": 0},
        why="takes the rate of the lowest loss itself, not ten times less"),
    wrong("rate_not_set", "task4", '''
finder_result = find_learning_rate(model, X_train, y_train, batch_size=64,
                                   min_rate=1e-4, max_rate=10.0)
chosen_rate = float(finder_result.best_rate / 10)
history = model.fit(X_train, y_train, epochs=2, batch_size=64,
                    validation_data=(X_valid, y_valid), verbose=0)
''', points={"test_task4": 0}, why="chooses a rate but trains with the compiled 1e-3"),
    wrong("fresh_model", "task4", '''
finder_result = find_learning_rate(model, X_train, y_train, batch_size=64,
                                   min_rate=1e-4, max_rate=10.0)
chosen_rate = float(finder_result.best_rate / 10)
new_model = build_model()
new_model.optimizer.learning_rate.assign(chosen_rate)
history = new_model.fit(X_train, y_train, epochs=2, batch_size=64,
                        validation_data=(X_valid, y_valid), verbose=0)
''', points={"test_task4": 0}, why="trains a new model instead of `model`"),
    right("argmin_and_setter", "task4", '''
finder_result = find_learning_rate(model, X_train, y_train, batch_size=64,
                                   min_rate=1e-4, max_rate=10.0)
lowest = int(np.argmin(finder_result.losses))
chosen_rate = float(finder_result.rates[lowest]) / 10
model.optimizer.learning_rate = chosen_rate
history = model.fit(X_train, y_train, epochs=2, batch_size=64,
                    validation_data=(X_valid, y_valid), verbose=0)
''', why="reads the minimum from rates/losses and uses the learning_rate setter"),
    right("suggested_rate", "task4", '''
finder_result = find_learning_rate(model, X_train, y_train, batch_size=64,
                                   min_rate=1e-4, max_rate=10.0)
chosen_rate = float(finder_result.suggested_rate)
print("finder: lowest loss at", finder_result.best_rate)
''' + _TASK4_TRAIN, why="uses the finder's own suggestion (best_rate / 10)"),
]
