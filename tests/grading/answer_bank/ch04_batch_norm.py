"""Answer bank for ch04_batch_norm (issue 16)."""

from tests.grading.answer_bank import right, wrong

_FOLD_SOLUTION_BODY = '''
    layers = list(model.layers)
    new_layers, weights = [], []
    i = 0
    while i < len(layers):
        layer = layers[i]
        if isinstance(layer, keras.layers.Dense):
            W, *rest = layer.get_weights()
            b = rest[0] if layer.use_bias else np.zeros(W.shape[1])
            nxt = layers[i + 1] if i + 1 < len(layers) else None
            if isinstance(nxt, keras.layers.BatchNormalization):
                W, b = fold_dense_bn(W, b, *nxt.get_weights(), epsilon=nxt.epsilon)
                i += 1
            config = layer.get_config()
            config["use_bias"] = True
            new_layers.append(keras.layers.Dense.from_config(config))
            weights.append([W.astype("float32"), b.astype("float32")])
        else:
            new_layers.append(type(layer).from_config(layer.get_config()))
            weights.append(layer.get_weights())
        i += 1
'''

ENTRIES = [
    # ---- Task 1: bn_forward -------------------------------------------------------------------
    wrong("unbiased_variance", "task1", '''
def bn_forward(x, gamma, beta, moving_mean, moving_var, training, momentum=0.99, epsilon=1e-3):
    x = np.asarray(x, dtype=np.float64)
    if training:
        mean, var = x.mean(axis=0), x.var(axis=0, ddof=1)
        new_mean = moving_mean * momentum + mean * (1 - momentum)
        new_var = moving_var * momentum + var * (1 - momentum)
    else:
        mean, var = moving_mean, moving_var
        new_mean, new_var = np.array(moving_mean), np.array(moving_var)
    return gamma * (x - mean) / np.sqrt(var + epsilon) + beta, new_mean, new_var
''', points={"test_task1": 0}, why="unbiased (n - 1) batch variance"),
    wrong("batch_stats_at_inference", "task1", '''
def bn_forward(x, gamma, beta, moving_mean, moving_var, training, momentum=0.99, epsilon=1e-3):
    x = np.asarray(x, dtype=np.float64)
    mean, var = x.mean(axis=0), x.var(axis=0)
    if training:
        new_mean = moving_mean * momentum + mean * (1 - momentum)
        new_var = moving_var * momentum + var * (1 - momentum)
    else:
        new_mean, new_var = np.array(moving_mean), np.array(moving_var)
    return gamma * (x - mean) / np.sqrt(var + epsilon) + beta, new_mean, new_var
''', points={"test_task1": 0}, why="normalizes with the batch statistics at inference too"),
    wrong("momentum_swapped", "task1", '''
def bn_forward(x, gamma, beta, moving_mean, moving_var, training, momentum=0.99, epsilon=1e-3):
    x = np.asarray(x, dtype=np.float64)
    if training:
        mean, var = x.mean(axis=0), x.var(axis=0)
        new_mean = moving_mean * (1 - momentum) + mean * momentum
        new_var = moving_var * (1 - momentum) + var * momentum
    else:
        mean, var = moving_mean, moving_var
        new_mean, new_var = np.array(moving_mean), np.array(moving_var)
    return gamma * (x - mean) / np.sqrt(var + epsilon) + beta, new_mean, new_var
''', points={"test_task1": 0}, why="momentum applied to the batch statistic instead of the old value"),
    wrong("moving_in_place", "task1", '''
def bn_forward(x, gamma, beta, moving_mean, moving_var, training, momentum=0.99, epsilon=1e-3):
    x = np.asarray(x, dtype=np.float64)
    if training:
        mean, var = x.mean(axis=0), x.var(axis=0)
        moving_mean *= momentum
        moving_mean += mean * (1 - momentum)
        moving_var *= momentum
        moving_var += var * (1 - momentum)
    else:
        mean, var = moving_mean, moving_var
    y = gamma * (x - mean) / np.sqrt(var + epsilon) + beta
    return y, np.array(moving_mean), np.array(moving_var)
''', points={"test_task1": 0}, why="updates the caller's float64 moving averages in place"),
    wrong("epsilon_outside_sqrt", "task1", '''
def bn_forward(x, gamma, beta, moving_mean, moving_var, training, momentum=0.99, epsilon=1e-3):
    x = np.asarray(x, dtype=np.float64)
    if training:
        mean, var = x.mean(axis=0), x.var(axis=0)
        new_mean = moving_mean * momentum + mean * (1 - momentum)
        new_var = moving_var * momentum + var * (1 - momentum)
    else:
        mean, var = moving_mean, moving_var
        new_mean, new_var = np.array(moving_mean), np.array(moving_var)
    return gamma * (x - mean) / (np.sqrt(var) + epsilon) + beta, new_mean, new_var
''', points={"test_task1": 0}, why="adds epsilon to the standard deviation instead of the variance"),
    wrong("forward_library_helper", "task1", '''
def bn_forward(x, gamma, beta, moving_mean, moving_var, training, momentum=0.99, epsilon=1e-3):
    from course_utils import batch_norm_forward
    result = batch_norm_forward(np.asarray(x, dtype=float), gamma, beta, moving_mean, moving_var,
                                training=training, momentum=momentum, epsilon=epsilon)
    return result.outputs, result.moving_mean, result.moving_variance
''', points={"test_task1": 0}, why="calls course_utils.batch_norm_forward, which the exercise forbids"),
    right("float32_var", "task1", '''
def bn_forward(x, gamma, beta, moving_mean, moving_var, training, momentum=0.99, epsilon=1e-3):
    x = np.asarray(x, dtype=np.float32)
    gamma, beta = np.asarray(gamma, dtype=np.float32), np.asarray(beta, dtype=np.float32)
    moving_mean = np.array(moving_mean, dtype=np.float32)
    moving_var = np.array(moving_var, dtype=np.float32)
    if training:
        mean, var = np.mean(x, axis=0), np.var(x, axis=0)
        new_mean = momentum * moving_mean + (1 - momentum) * mean
        new_var = momentum * moving_var + (1 - momentum) * var
    else:
        mean, var = moving_mean, moving_var
        new_mean, new_var = np.copy(moving_mean), np.copy(moving_var)
    x_hat = (x - mean) / np.sqrt(var + epsilon)
    return gamma * x_hat + beta, new_mean, new_var
''', why="float32 throughout, np.var, the update written momentum * old + ..."),
    right("lerp_form", "task1", '''
def bn_forward(x, gamma, beta, moving_mean, moving_var, training, momentum=0.99, epsilon=1e-3):
    x = np.array(x, dtype=float)
    old_mean, old_var = np.array(moving_mean, dtype=float), np.array(moving_var, dtype=float)
    if training:
        mean = x.mean(axis=0)
        var = np.square(x - mean).mean(axis=0)
        new_mean = old_mean - (1 - momentum) * (old_mean - mean)
        new_var = old_var - (1 - momentum) * (old_var - var)
    else:
        mean, var, new_mean, new_var = old_mean, old_var, old_mean.copy(), old_var.copy()
    inv = 1.0 / np.sqrt(var + epsilon)
    return (x - mean) * (np.asarray(gamma) * inv) + np.asarray(beta), new_mean, new_var
''', why="moving average as a step towards the batch statistic; multiply by 1/sigma"),
    # ---- Task 2: fold_dense_bn ------------------------------------------------------------------
    wrong("scales_rows", "task2", '''
def fold_dense_bn(W, b, gamma, beta, mean, var, epsilon=1e-3):
    scale = gamma / np.sqrt(var + epsilon)
    return np.asarray(W) * scale[:, None], scale * (b - mean) + beta
''', points={"test_task2": 0, "test_task3": 0},
        why="scales the rows of W instead of the columns; fold_model uses it and loses its points too"),
    wrong("forgets_mean_in_bias", "task2", '''
def fold_dense_bn(W, b, gamma, beta, mean, var, epsilon=1e-3):
    scale = gamma / np.sqrt(var + epsilon)
    return np.asarray(W) * scale, scale * b + beta - mean
''', points={"test_task2": 0, "test_task3": 0},
        why="subtracts the mean after scaling: b' = gamma b / sigma + beta - mu; fold_model uses it and loses its points too"),
    wrong("W_in_place", "task2", '''
def fold_dense_bn(W, b, gamma, beta, mean, var, epsilon=1e-3):
    scale = np.asarray(gamma) / np.sqrt(np.asarray(var) + epsilon)
    W = np.asarray(W, dtype=np.float64)
    W *= scale
    return W, scale * (np.asarray(b) - mean) + beta
''', points={"test_task2": 0}, why="scales the caller's float64 kernel in place"),
    right("float32_diag", "task2", '''
def fold_dense_bn(W, b, gamma, beta, mean, var, epsilon=1e-3):
    W, b, gamma, beta, mean, var = (np.asarray(a, dtype=np.float32)
                                    for a in (W, b, gamma, beta, mean, var))
    sigma = np.sqrt(var + np.float32(epsilon))
    W_folded = W @ np.diag(gamma / sigma)
    b_folded = beta + (b - mean) * gamma / sigma
    return W_folded, b_folded
''', why="float32, W times a diagonal matrix"),
    # ---- Task 3: fold_model ----------------------------------------------------------------------
    wrong("shares_kept_layers", "task3", '''
def fold_model(model):
    new_layers, weights = [], []
    layers = list(model.layers)
    for i, layer in enumerate(layers):
        if isinstance(layer, keras.layers.BatchNormalization):
            continue
        nxt = layers[i + 1] if i + 1 < len(layers) else None
        if isinstance(nxt, keras.layers.BatchNormalization):
            W, *rest = layer.get_weights()
            b = rest[0] if layer.use_bias else np.zeros(W.shape[1])
            W, b = fold_dense_bn(W, b, *nxt.get_weights(), epsilon=nxt.epsilon)
            new = keras.layers.Dense(W.shape[1])
            new_layers.append(new)
            weights.append((new, [W, b]))
        else:
            new_layers.append(layer)   # keep the layer as it is
    folded = keras.Sequential([keras.Input(shape=model.input_shape[1:])] + new_layers)
    for new, w in weights:
        new.set_weights(w)
    return folded
''', points={"test_task3": 0}, why="puts the original's Activation and output Dense layers into the new model"),
    wrong("keeps_bn", "task3", '''
def fold_model(model):
    folded = keras.models.clone_model(model)
    folded.set_weights(model.get_weights())
    return folded
''', points={"test_task3": 0}, why="a copy with its BN layers: nothing is folded"),
    wrong("default_epsilon", "task3", '''
def fold_model(model):
    layers = list(model.layers)
    new_layers, weights = [], []
    i = 0
    while i < len(layers):
        layer = layers[i]
        if isinstance(layer, keras.layers.Dense):
            W, *rest = layer.get_weights()
            b = rest[0] if layer.use_bias else np.zeros(W.shape[1])
            nxt = layers[i + 1] if i + 1 < len(layers) else None
            if isinstance(nxt, keras.layers.BatchNormalization):
                W, b = fold_dense_bn(W, b, *nxt.get_weights())
                i += 1
            config = layer.get_config()
            config["use_bias"] = True
            new_layers.append(keras.layers.Dense.from_config(config))
            weights.append([W.astype("float32"), b.astype("float32")])
        else:
            new_layers.append(type(layer).from_config(layer.get_config()))
            weights.append(layer.get_weights())
        i += 1
    folded = keras.Sequential([keras.Input(shape=model.input_shape[1:])] + new_layers)
    for layer, w in zip(new_layers, weights):
        layer.set_weights(w)
    return folded
''', points={"test_task3": 0}, why="ignores the BN layer's own epsilon (uses the default 1e-3)"),
    wrong("folds_into_original", "task3", '''
def fold_model(model):
    kept = []
    layers = list(model.layers)
    for i, layer in enumerate(layers):
        nxt = layers[i + 1] if i + 1 < len(layers) else None
        if isinstance(nxt, keras.layers.BatchNormalization):
            W, *rest = layer.get_weights()
            b = rest[0] if layer.use_bias else np.zeros(W.shape[1])
            W, b = fold_dense_bn(W, b, *nxt.get_weights(), epsilon=nxt.epsilon)
            config = layer.get_config()
            config["use_bias"] = True
            new = keras.layers.Dense.from_config(config)
            kept.append((new, [W.astype("float32"), b.astype("float32")]))
            # reuse the BN layer as an identity from now on
            nxt.set_weights([np.ones_like(W[0]), np.zeros_like(W[0]), np.zeros_like(W[0]),
                             np.ones_like(W[0]) - nxt.epsilon])
        elif not isinstance(layer, keras.layers.BatchNormalization):
            new = type(layer).from_config(layer.get_config())
            kept.append((new, layer.get_weights()))
    folded = keras.Sequential([keras.Input(shape=model.input_shape[1:])] + [n for n, _ in kept])
    for new, w in kept:
        new.set_weights(w)
    return folded
''', points={"test_task3": 0}, why="resets the original model's BN layers: changes the model it was given"),
    right("fresh_layers_float64", "task3", '''
def fold_model(model):
    layers = model.layers
    plan = []
    for i, layer in enumerate(layers):
        if isinstance(layer, keras.layers.BatchNormalization):
            continue
        nxt = layers[i + 1] if i + 1 < len(layers) else None
        if isinstance(layer, keras.layers.Dense):
            W = layer.kernel.numpy()
            b = layer.bias.numpy() if layer.use_bias else np.zeros(layer.units)
            if isinstance(nxt, keras.layers.BatchNormalization):
                gamma, beta, mu, var = (v.numpy() for v in
                                        (nxt.gamma, nxt.beta, nxt.moving_mean, nxt.moving_variance))
                W, b = fold_dense_bn(W, b, gamma, beta, mu, var, epsilon=nxt.epsilon)
            plan.append((keras.layers.Dense(layer.units, activation=layer.activation), [W, b]))
        else:
            plan.append((keras.layers.Activation(layer.activation), []))
    folded = keras.Sequential([keras.Input(shape=model.input_shape[1:])] + [l for l, _ in plan])
    for new, w in plan:
        if w:
            new.set_weights(w)
    return folded
''', why="new layers from scratch, variables read directly, float64 weights handed to set_weights"),
    # ---- Task 4: count_bn_parameters ---------------------------------------------------------------
    wrong("hard_coded_four_per_feature", "task4", '''
def count_bn_parameters(model):
    trainable = non_trainable = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            n = layer.get_weights()[-1].shape[0]
            trainable += 2 * n
            non_trainable += 2 * n
    return {"trainable": trainable, "non_trainable": non_trainable}
''', points={"test_task4": 0}, why="assumes gamma and beta exist and are trainable"),
    wrong("whole_model", "task4", '''
def count_bn_parameters(model):
    return {"trainable": int(sum(np.prod(v.shape) for v in model.trainable_weights)),
            "non_trainable": int(sum(np.prod(v.shape) for v in model.non_trainable_weights))}
''', points={"test_task4": 0}, why="counts the parameters of every layer, not only the BN layers"),
    wrong("count_library_helper", "task4", '''
from course_utils import parameter_counts


def count_bn_parameters(model):
    rows = [row for row in parameter_counts(model) if row.kind == "BatchNormalization"]
    return {"trainable": int(sum(row.trainable for row in rows)),
            "non_trainable": int(sum(row.non_trainable for row in rows))}
''', points={"test_task4": 0}, why="calls course_utils.parameter_counts, which the exercise forbids"),
    right("class_name_size", "task4", '''
def count_bn_parameters(model):
    bn = [l for l in model.layers if type(l).__name__ == "BatchNormalization"]
    trainable = sum(int(np.size(w.numpy())) for l in bn for w in l.trainable_weights)
    non_trainable = sum(int(np.size(w.numpy())) for l in bn for w in l.non_trainable_weights)
    result = dict(trainable=trainable, non_trainable=non_trainable)
    print(result)
    return result
''', why="filters by class name, np.size of the values, printed output"),
]
