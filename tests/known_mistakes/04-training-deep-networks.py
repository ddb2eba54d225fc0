"""Plausible wrong answers to the exercises of 04-training-deep-networks, as whole answer
cells (see tests/test_known_mistakes.py). At least two per exercise, including the four
the assignment's issue names: dropout without rescaling, batch norm with the unbiased
variance or eps outside the root, He with variance 1/n_in, weight decay with the wrong sign."""

_CHAIN = '''
def chain_bias_gradients(w, b, x, t):
    w, b = np.asarray(w, dtype=float), np.asarray(b, dtype=float)
    a, h = [], x
    for w_l, b_l in zip(w, b):
        a.append(w_l * h + b_l)
        h = 1 / (1 + np.exp(-a[-1]))
    s = [1 / (1 + np.exp(-a_l)) for a_l in a]
    sigma_prime = [SIGMA_PRIME for s_l in s]
    grads = np.zeros(len(w))
    delta = (h - t) * OUTPUT_FACTOR
    for l in range(len(w) - 1, -1, -1):
        grads[l] = delta
        if l > 0:
            delta = delta * WEIGHT * sigma_prime[l - 1]
    return grads
'''


def _chain(sigma_prime="s_l * (1 - s_l)", output="sigma_prime[-1]", weight="w[l]"):
    return _CHAIN.replace("SIGMA_PRIME", sigma_prime).replace("OUTPUT_FACTOR", output).replace("WEIGHT", weight)


_INIT = '''
def xavier_uniform(n_in, n_out, rng):
    bound = XAVIER_BOUND
    return rng.uniform(-bound, bound, size=(n_in, n_out))


def he_normal(n_in, n_out, rng):
    return rng.normal(0.0, HE_STD, size=(n_in, n_out))
'''


def _init(xavier="np.sqrt(6.0 / (n_in + n_out))", he="np.sqrt(2.0 / n_in)"):
    return _INIT.replace("XAVIER_BOUND", xavier).replace("HE_STD", he)


_DROPOUT = '''
def dropout_forward(x, p, rng, train=True):
    if not train:
        return EVALUATION, None
    scaled_mask = MASK
    return x * scaled_mask, scaled_mask


def dropout_backward(dout, cache):
    return BACKWARD
'''


def _dropout(evaluation="x", mask="(rng.random(x.shape) >= p) / (1 - p)", backward="dout if cache is None else dout * cache"):
    return _DROPOUT.replace("EVALUATION", evaluation).replace("MASK", mask).replace("BACKWARD", backward)


_BN_FORWARD = '''
def batchnorm_forward(x, gamma, beta, eps=1e-5):
    mean = x.mean(axis=AXIS)
    var = x.var(axis=AXIS, ddof=DDOF)
    inv_std = INV_STD
    x_hat = (x - mean) * inv_std
    return gamma * x_hat + beta, (x_hat, gamma, inv_std)
'''


def _bn_forward(axis="0", ddof="0", inv_std="1.0 / np.sqrt(var + eps)"):
    return _BN_FORWARD.replace("AXIS", axis).replace("DDOF", ddof).replace("INV_STD", inv_std)


_BN_BACKWARD = '''
def batchnorm_backward(dout, cache):
    x_hat, gamma, inv_std = cache
    N = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = DGAMMA
    dx = DX
    return dx, dgamma, dbeta
'''


def _bn_backward(dgamma="(dout * x_hat).sum(axis=0)", dx="gamma * inv_std / N * (N * dout - dbeta - x_hat * dgamma)"):
    return _BN_BACKWARD.replace("DGAMMA", dgamma).replace("DX", dx)


_RESIDUAL = '''
def residual_backward(dout, cache):
    affine1_cache, relu_cache, affine2_cache = cache
    dh, dw2, db2 = np_layers.affine_backward(dout, affine2_cache)
    da1 = RELU
    dx_through_r, dw1, db1 = np_layers.affine_backward(da1, affine1_cache)
    return DX, dw1, db1, dw2, db2
'''


def _residual(relu="np_layers.relu_backward(dh, relu_cache)", dx="dout + dx_through_r"):
    return _RESIDUAL.replace("RELU", relu).replace("DX", dx)


MISTAKES = {
    "ex1_chain": {
        "sigma instead of its derivative": _chain(sigma_prime="s_l"),
        "output layer's sigma' forgotten": _chain(output="1.0"),
        "weight of the wrong layer": _chain(weight="w[l - 1]"),
    },
    "ex2_init": {
        "He with variance 1/n_in": _init(he="np.sqrt(1.0 / n_in)"),
        "He variance used as the standard deviation": _init(he="2.0 / n_in"),
        "Xavier bound from n_in alone": _init(xavier="np.sqrt(6.0 / n_in)"),
        "Xavier without the square root": _init(xavier="6.0 / (n_in + n_out)"),
    },
    "ex3_dropout": {
        "no rescaling (the mask alone)": _dropout(mask="rng.random(x.shape) >= p"),
        "p taken as the probability of keeping": _dropout(mask="(rng.random(x.shape) < p) / max(p, 1e-12)"),
        "scaling (1 - p) applied in evaluation too": _dropout(evaluation="x * (1 - p)"),
        "backward ignores the mask": _dropout(backward="dout"),
    },
    "ex4_bn_forward": {
        'delegates to the library': """
def batchnorm_forward(x, gamma, beta, eps=1e-5):
    return np_layers.batchnorm_forward(x, gamma, beta, eps=eps)
""",
        "unbiased variance (ddof=1)": _bn_forward(ddof="1"),
        "eps outside the square root": _bn_forward(inv_std="1.0 / (np.sqrt(var) + eps)"),
        "statistics over the features instead of the batch": _bn_forward(axis="1, keepdims=True"),
    },
    "ex5_bn_backward": {
        "mean and variance treated as constants": _bn_backward(dx="dout * gamma * inv_std"),
        "variance path forgotten": _bn_backward(dx="gamma * inv_std / N * (N * dout - dbeta)"),
        "dgamma without x_hat": _bn_backward(dgamma="dout.sum(axis=0)"),
    },
    "ex6_residual": {
        "identity path forgotten": _residual(dx="dx_through_r"),
        "ReLU gradient skipped": _residual(relu="dh"),
    },
    "ex7_weight_decay": {
        "the notes' sign slip (1 + lr * weight_decay)": '''
def sgd_weight_decay_step(theta, grad, lr, weight_decay):
    return (1 + lr * weight_decay) * theta - lr * grad
''',
        "decay not scaled by the learning rate": '''
def sgd_weight_decay_step(theta, grad, lr, weight_decay):
    return (1 - weight_decay) * theta - lr * grad
''',
        "update in place": '''
def sgd_weight_decay_step(theta, grad, lr, weight_decay):
    theta *= 1 - lr * weight_decay
    theta -= lr * grad
    return theta
''',
    },
}
