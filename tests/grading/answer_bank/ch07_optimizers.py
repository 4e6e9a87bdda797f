"""Answer bank for ch07_optimizers (see tests/grading/answer_bank/__init__.py)."""

from tests.grading.answer_bank import right, wrong

ENTRIES = [
    # ---- task 1: momentum step -----------------------------------------------------------
    wrong("inplace_float64", "task1", '''
def momentum_step(theta, m, grad, learning_rate, momentum):
    m *= momentum
    m -= learning_rate * grad
    theta += m
    return theta, m
''', points={"test_task1": 0},
        why="updates the caller's float64 arrays in place (the values returned are right)"),
    wrong("old_velocity", "task1", '''
def momentum_step(theta, m, grad, learning_rate, momentum):
    new_theta = theta + m
    new_m = momentum * m - learning_rate * grad
    return new_theta, new_m
''', points={"test_task1": 0}, why="moves theta with the old velocity instead of the new one"),
    wrong("flipped_velocity", "task1", '''
def momentum_step(theta, m, grad, learning_rate, momentum):
    new_m = momentum * m + learning_rate * grad
    return theta - new_m, new_m
''', points={"test_task1": 0},
        why="stores m with the opposite sign of the rule asked for (theta is right only when m = 0)"),
    right("float32_momentum", "task1", '''
def momentum_step(theta, m, grad, learning_rate, momentum):
    theta, m, grad = (np.asarray(a, dtype=np.float32) for a in (theta, m, grad))
    new_m = np.float32(momentum) * m - np.float32(learning_rate) * grad
    return theta + new_m, new_m
''', why="float32 arithmetic: the task does not ask for float64"),
    right("ufuncs_cell_run_twice", "task1", '''
def momentum_step(theta, m, grad, learning_rate, momentum):
    new_m = np.subtract(np.multiply(momentum, m), np.multiply(learning_rate, grad))
    return np.add(theta, new_m), new_m


def momentum_step(theta, m, grad, learning_rate, momentum):
    new_m = np.subtract(np.multiply(momentum, m), np.multiply(learning_rate, grad))
    return np.add(theta, new_m), new_m

print(momentum_step([1.0, -2.0], [0.5, 0.0], [2.0, -4.0], 0.1, 0.9))
''', why="np.add/np.multiply on lists or arrays, the definition pasted twice, a print"),
    # ---- task 2: Nesterov ------------------------------------------------------------------
    wrong("old_m_in_phi", "task2", '''
def nesterov_step(phi, m, grad, learning_rate, momentum):
    new_phi = phi + momentum * m - learning_rate * grad
    new_m = momentum * m - learning_rate * grad
    return new_phi, new_m


phi_20, _velocity = theta_start.copy(), np.zeros(2)
for _ in range(20):
    phi_20, _velocity = nesterov_step(phi_20, _velocity, bowl_gradient(phi_20), 0.02, 0.9)
print("phi after 20 steps:", phi_20)
''', points={"test_task2": 0}, why="uses the old m in the look-ahead update"),
    wrong("double_look_ahead", "task2", '''
def nesterov_step(phi, m, grad, learning_rate, momentum):
    new_m = momentum * m - learning_rate * grad
    return phi + momentum * new_m - learning_rate * grad, new_m


phi_20, _velocity = theta_start.copy(), np.zeros(2)
for _ in range(20):
    phi_20, _velocity = nesterov_step(phi_20, _velocity,
                                      bowl_gradient(phi_20 + 0.9 * _velocity), 0.02, 0.9)
print("phi after 20 steps:", phi_20)
''', points={"test_task2": 0},
        why="takes the gradient at phi + beta m although phi already is the look-ahead point"),
    wrong("inplace_phi", "task2", '''
def nesterov_step(phi, m, grad, learning_rate, momentum):
    new_m = momentum * m - learning_rate * grad
    phi += momentum * new_m - learning_rate * grad
    return phi, new_m


phi_20, _velocity = theta_start.copy(), np.zeros(2)
for _ in range(20):
    phi_20, _velocity = nesterov_step(phi_20, _velocity, bowl_gradient(phi_20), 0.02, 0.9)
print("phi after 20 steps:", phi_20)
''', points={"test_task2": 0}, why="phi += ...: changes the caller's float64 array"),
    right("algebraic_form", "task2", '''
def nesterov_step(phi, m, grad, learning_rate, momentum):
    phi, m, grad = np.asarray(phi, float), np.asarray(m, float), np.asarray(grad, float)
    new_phi = phi + momentum**2 * m - (1 + momentum) * learning_rate * grad
    return new_phi, momentum * m - learning_rate * grad


phi_20, _velocity = theta_start, np.zeros(2)
for _ in range(20):
    phi_20, _velocity = nesterov_step(phi_20, _velocity, bowl_gradient(phi_20), 0.02, 0.9)
''', why="phi + beta^2 m - (1 + beta) eta g, the same update expanded"),
    right("keras_ops_float32", "task2", '''
import keras


def nesterov_step(phi, m, grad, learning_rate, momentum):
    phi, m, grad = (keras.ops.convert_to_tensor(np.asarray(a, "float32")) for a in (phi, m, grad))
    new_m = momentum * m - learning_rate * grad
    new_phi = phi + momentum * new_m - learning_rate * grad
    return keras.ops.convert_to_numpy(new_phi), keras.ops.convert_to_numpy(new_m)


phi_20, _velocity = theta_start.copy(), np.zeros(2)
for _step in range(20):
    phi_20, _velocity = nesterov_step(phi_20, _velocity, bowl_gradient(phi_20), 0.02, 0.9)
print("phi after 20 steps:", phi_20)
''', why="computed with keras.ops in float32, returned as NumPy arrays"),
    # ---- task 3: Adam ------------------------------------------------------------------------
    wrong("no_bias_correction", "task3", '''
def adam_step(theta, m, v, grad, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    new_m = beta_1 * m + (1 - beta_1) * grad
    new_v = beta_2 * v + (1 - beta_2) * grad**2
    return theta - learning_rate * new_m / (np.sqrt(new_v) + epsilon), new_m, new_v


theta_adam, _m1, _v1 = theta_start.copy(), np.zeros(2), np.zeros(2)
for _t in range(1, 51):
    theta_adam, _m1, _v1 = adam_step(theta_adam, _m1, _v1, bowl_gradient(theta_adam), _t,
                                     learning_rate=0.1)
''', points={"test_task3": 0}, why="forgets the bias correction"),
    wrong("epsilon_on_v_hat", "task3", '''
def adam_step(theta, m, v, grad, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    new_m = beta_1 * m + (1 - beta_1) * grad
    new_v = beta_2 * v + (1 - beta_2) * grad**2
    m_hat = new_m / (1 - beta_1**t)
    v_hat = new_v / (1 - beta_2**t)
    return theta - learning_rate * m_hat / (np.sqrt(v_hat) + epsilon), new_m, new_v


theta_adam, _m1, _v1 = theta_start.copy(), np.zeros(2), np.zeros(2)
for _t in range(1, 51):
    theta_adam, _m1, _v1 = adam_step(theta_adam, _m1, _v1, bowl_gradient(theta_adam), _t,
                                     learning_rate=0.1)
''', points={"test_task3": 0},
        why="the paper's form with epsilon added to sqrt(v_hat): not Keras' (the task says so)"),
    wrong("t_off_by_one", "task3", '''
def adam_step(theta, m, v, grad, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    new_m = beta_1 * m + (1 - beta_1) * grad
    new_v = beta_2 * v + (1 - beta_2) * grad**2
    eta_t = learning_rate * np.sqrt(1 - beta_2**(t + 1)) / (1 - beta_1**(t + 1))
    return theta - eta_t * new_m / (np.sqrt(new_v) + epsilon), new_m, new_v


theta_adam, _m1, _v1 = theta_start.copy(), np.zeros(2), np.zeros(2)
for _t in range(1, 51):
    theta_adam, _m1, _v1 = adam_step(theta_adam, _m1, _v1, bowl_gradient(theta_adam), _t,
                                     learning_rate=0.1)
''', points={"test_task3": 0}, why="counts steps from 0 inside the function: corrections use t + 1"),
    wrong("inplace_moments", "task3", '''
def adam_step(theta, m, v, grad, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    m *= beta_1
    m += (1 - beta_1) * grad
    v *= beta_2
    v += (1 - beta_2) * grad**2
    eta_t = learning_rate * np.sqrt(1 - beta_2**t) / (1 - beta_1**t)
    return theta - eta_t * m / (np.sqrt(v) + epsilon), m, v


theta_adam, _m1, _v1 = theta_start.copy(), np.zeros(2), np.zeros(2)
for _t in range(1, 51):
    theta_adam, _m1, _v1 = adam_step(theta_adam, _m1, _v1, bowl_gradient(theta_adam), _t,
                                     learning_rate=0.1)
''', points={"test_task3": 0}, why="updates the moment arrays it is given in place"),
    right("textbook_equivalent", "task3", '''
def adam_step(theta, m, v, grad, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    grad = np.asarray(grad, dtype=float)
    new_m = beta_1 * np.asarray(m, dtype=float) + (1 - beta_1) * grad
    new_v = beta_2 * np.asarray(v, dtype=float) + (1 - beta_2) * grad * grad
    m_hat = new_m / (1 - beta_1**t)
    v_hat = new_v / (1 - beta_2**t)
    epsilon_hat = epsilon / np.sqrt(1 - beta_2**t)
    return theta - learning_rate * m_hat / (np.sqrt(v_hat) + epsilon_hat), new_m, new_v


theta_adam, _m1, _v1 = theta_start.copy(), np.zeros(2), np.zeros(2)
for _t in range(1, 51):
    theta_adam, _m1, _v1 = adam_step(theta_adam, _m1, _v1, bowl_gradient(theta_adam), _t,
                                     learning_rate=0.1)
''', why="bias-corrected moments with epsilon rescaled: algebraically Keras' update"),
    right("float32_adam", "task3", '''
def adam_step(theta, m, v, grad, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    theta, m, v, grad = (np.asarray(a, dtype=np.float32) for a in (theta, m, v, grad))
    new_m = np.float32(beta_1) * m + np.float32(1 - beta_1) * grad
    new_v = np.float32(beta_2) * v + np.float32(1 - beta_2) * np.square(grad)
    eta_t = np.float32(learning_rate * np.sqrt(1 - beta_2**t) / (1 - beta_1**t))
    return theta - eta_t * new_m / (np.sqrt(new_v) + np.float32(epsilon)), new_m, new_v


state = (theta_start, np.zeros(2), np.zeros(2))
for step in range(1, 51):
    state = adam_step(*state[:3], bowl_gradient(state[0]), step, learning_rate=0.1)
theta_adam = state[0]
print(theta_adam)
''', why="float32 arithmetic throughout, state kept in a tuple"),
    # ---- task 4: choices ---------------------------------------------------------------------
    wrong("adagrad_rmsprop_swapped", "task4", '''
answers = {1: "H", 2: "C", 3: "E", 4: "D", 5: "F", 6: "G"}
''', points={"test_task4": 0}, why="swaps AdaGrad (total squared gradient) and RMSprop (forgetting)"),
    wrong("string_keys", "task4", '''
answers = {"1": "H", "2": "C", "3": "D", "4": "E", "5": "F", "6": "G"}
''', points={"test_task4": 0}, why="keys as strings where the task asks for ints"),
    right("built_from_string", "task4", '''
answers = dict(zip(range(1, 7), "HCDEFG"))
for situation, letter in answers.items():
    print(situation, letter)
''', why="the same dict built with zip, and printed"),
]
