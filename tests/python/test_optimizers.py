"""Optimizers: single steps against hand-computed numbers, several steps against scalar
float64 references of Keras's rules, exact state round trips, lookup and argument errors."""

import json
import math

import numpy as np
import pytest

from cnnkit import optimizers


def _step(optimizer, w, g):
    w = np.array(w, dtype=np.float64)
    optimizer.apply([w], [np.array(g, dtype=np.float64)])
    return w


# ---- single steps, numbers worked out by hand -------------------------------------------

def test_sgd_plain_step():
    np.testing.assert_allclose(_step(optimizers.SGD(learning_rate=0.1), [1.0, -2.0], [0.5, -1.0]),
                               [0.95, -1.9], rtol=1e-12)


def test_sgd_momentum_two_steps():
    opt = optimizers.SGD(learning_rate=0.1, momentum=0.9)
    w = np.array([1.0])
    opt.apply([w], [np.array([0.5])])   # v = -0.05, w = 0.95
    np.testing.assert_allclose(w, [0.95], rtol=1e-12)
    opt.apply([w], [np.array([0.5])])   # v = 0.9 * -0.05 - 0.05 = -0.095, w = 0.855
    np.testing.assert_allclose(w, [0.855], rtol=1e-14)
    np.testing.assert_allclose(opt.get_state()["momentum/0"], [-0.095], rtol=1e-14)


def test_sgd_nesterov_two_steps():
    opt = optimizers.SGD(learning_rate=0.1, momentum=0.9, nesterov=True)
    w = np.array([1.0])
    opt.apply([w], [np.array([0.5])])   # v = -0.05; w += 0.9 * v - 0.05 -> 0.905
    np.testing.assert_allclose(w, [0.905], rtol=1e-14)
    opt.apply([w], [np.array([0.5])])   # v = -0.095; w += -0.0855 - 0.05 -> 0.7695
    np.testing.assert_allclose(w, [0.7695], rtol=1e-14)


def test_sgd_legacy_decay_uses_iterations_before_the_step():
    opt = optimizers.SGD(lr=0.1, decay=0.5)
    w = np.array([1.0])
    expected = [0.9, 0.9 - 0.1 / 1.5, 0.9 - 0.1 / 1.5 - 0.05]  # lr_t = 0.1, 0.1/1.5, 0.1/2
    for i, value in enumerate(expected):
        assert opt.iterations == i
        opt.apply([w], [np.array([1.0])])
        np.testing.assert_allclose(w, [value], rtol=1e-14)
    assert opt.iterations == 3
    assert opt.current_learning_rate() == pytest.approx(0.1 / 2.5)


def test_adam_first_step():
    w = _step(optimizers.Adam(), [1.0], [0.5])
    # m = 0.05, v = 0.00025, alpha = 0.001 * sqrt(1 - 0.999) / (1 - 0.9)
    alpha = 0.001 * math.sqrt(0.001) / 0.1
    np.testing.assert_allclose(w, [1.0 - alpha * 0.05 / (math.sqrt(0.00025) + 1e-7)],
                               rtol=1e-12)
    assert 1.0 - w[0] == pytest.approx(0.001, rel=1e-5)  # Adam's first step is about lr


def test_rmsprop_first_step():
    w = _step(optimizers.RMSprop(), [1.0], [0.5])
    # v = 0.1 * 0.25 = 0.025; step = 0.001 * 0.5 / sqrt(0.025 + 1e-7)
    np.testing.assert_allclose(w, [1.0 - 0.0005 / math.sqrt(0.025 + 1e-7)],
                               rtol=1e-12)


def test_adagrad_first_step():
    w = _step(optimizers.Adagrad(), [1.0], [0.5])
    # accumulator = 0.1 + 0.25; step = 0.001 * 0.5 / sqrt(0.35 + 1e-7)
    np.testing.assert_allclose(w, [1.0 - 0.0005 / math.sqrt(0.35 + 1e-7)], rtol=1e-12)


def test_adadelta_first_step():
    w = _step(optimizers.Adadelta(), [1.0], [0.5])
    # acc_g = 0.05 * 0.25; delta = -sqrt(1e-7) * 0.5 / sqrt(0.0125 + 1e-7); w += 0.001 * delta
    delta = -math.sqrt(1e-7) * 0.5 / math.sqrt(0.0125 + 1e-7)
    np.testing.assert_allclose(w, [1.0 + 0.001 * delta], rtol=1e-12)


# ---- several steps against scalar references --------------------------------------------

def ref_sgd(w, grads, lr, momentum=0.0, nesterov=False, decay=0.0):
    v = 0.0
    for t, g in enumerate(grads):
        lr_t = lr / (1 + decay * t)
        v = momentum * v - lr_t * g
        if nesterov:
            w = w + momentum * v - lr_t * g
        elif momentum:
            w = w + v
        else:
            w = w - lr_t * g
    return w


def ref_adam(w, grads, lr=0.001, b1=0.9, b2=0.999, eps=1e-7, amsgrad=False):
    m = v = v_max = 0.0
    for t, g in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        v_max = max(v_max, v)
        denominator = math.sqrt(v_max if amsgrad else v) + eps
        w = w - lr * math.sqrt(1 - b2**t) / (1 - b1**t) * m / denominator
    return w


def ref_rmsprop(w, grads, lr=0.001, rho=0.9, eps=1e-7, momentum=0.0, centered=False):
    v = a = mom = 0.0
    for g in grads:
        v = rho * v + (1 - rho) * g * g
        a = rho * a + (1 - rho) * g
        step = lr * g / math.sqrt((v - a * a if centered else v) + eps)
        mom = momentum * mom + step
        w = w - (mom if momentum else step)
    return w


def ref_adagrad(w, grads, lr=0.001, initial=0.1, eps=1e-7):
    acc = initial
    for g in grads:
        acc += g * g
        w = w - lr * g / math.sqrt(acc + eps)
    return w


def ref_adadelta(w, grads, lr=0.001, rho=0.95, eps=1e-7):
    acc_g = acc_d = 0.0
    for g in grads:
        acc_g = rho * acc_g + (1 - rho) * g * g
        delta = -math.sqrt(acc_d + eps) * g / math.sqrt(acc_g + eps)
        acc_d = rho * acc_d + (1 - rho) * delta * delta
        w = w + lr * delta
    return w


MULTI_STEP = [
    ("sgd", lambda: optimizers.SGD(0.05), lambda w, gs: ref_sgd(w, gs, 0.05)),
    ("sgd_momentum", lambda: optimizers.SGD(0.05, momentum=0.8),
     lambda w, gs: ref_sgd(w, gs, 0.05, 0.8)),
    ("sgd_nesterov", lambda: optimizers.SGD(0.05, momentum=0.8, nesterov=True),
     lambda w, gs: ref_sgd(w, gs, 0.05, 0.8, True)),
    ("sgd_lecture", lambda: optimizers.SGD(lr=0.01, decay=1e-6, momentum=0.9, nesterov=True),
     lambda w, gs: ref_sgd(w, gs, 0.01, 0.9, True, 1e-6)),
    ("sgd_decay_momentum", lambda: optimizers.SGD(0.1, momentum=0.5, decay=0.3),
     lambda w, gs: ref_sgd(w, gs, 0.1, 0.5, False, 0.3)),
    ("adam", lambda: optimizers.Adam(), lambda w, gs: ref_adam(w, gs)),
    ("adam_custom", lambda: optimizers.Adam(0.01, beta_1=0.8, beta_2=0.99, epsilon=1e-4),
     lambda w, gs: ref_adam(w, gs, 0.01, 0.8, 0.99, 1e-4)),
    ("adam_amsgrad", lambda: optimizers.Adam(0.01, amsgrad=True),
     lambda w, gs: ref_adam(w, gs, 0.01, amsgrad=True)),
    ("rmsprop", lambda: optimizers.RMSprop(), lambda w, gs: ref_rmsprop(w, gs)),
    ("rmsprop_momentum_centered",
     lambda: optimizers.RMSprop(0.01, rho=0.8, momentum=0.5, centered=True),
     lambda w, gs: ref_rmsprop(w, gs, 0.01, 0.8, 1e-7, 0.5, True)),
    ("adagrad", lambda: optimizers.Adagrad(0.05), lambda w, gs: ref_adagrad(w, gs, 0.05)),
    ("adadelta", lambda: optimizers.Adadelta(1.0), lambda w, gs: ref_adadelta(w, gs, 1.0)),
]


@pytest.mark.parametrize(("label", "make", "reference"), MULTI_STEP,
                         ids=[case[0] for case in MULTI_STEP])
def test_several_steps_match_reference(label, make, reference):
    rng = np.random.default_rng(11)
    start = [rng.normal(size=(3, 2)), rng.normal(size=4)]
    grads = [[rng.normal(size=p.shape) for p in start] for _ in range(6)]
    params = [p.copy() for p in start]
    opt = make()
    for step in grads:
        opt.apply(params, step)
    for index, param in enumerate(params):
        expected = np.vectorize(
            lambda w0, *gs: reference(w0, gs)
        )(start[index], *[step[index] for step in grads])
        np.testing.assert_allclose(param, expected, rtol=1e-12, atol=1e-15)
    assert opt.iterations == 6


def _all_optimizers():
    return [optimizers.SGD(0.1), optimizers.SGD(0.1, momentum=0.9, nesterov=True, decay=0.01),
            optimizers.Adam(0.01, amsgrad=True), optimizers.RMSprop(momentum=0.3, centered=True),
            optimizers.Adagrad(), optimizers.Adadelta(0.5)]


@pytest.mark.parametrize("opt", _all_optimizers(), ids=lambda o: type(o).__name__)
def test_float32_params_keep_float32_state(opt):
    w = np.ones((2, 3), dtype=np.float32)
    opt.apply([w], [np.full((2, 3), 0.25, dtype=np.float64)])
    assert w.dtype == np.float32
    for key, value in opt.get_state().items():
        if key != "iterations":
            assert value.dtype == np.float32
            assert value.shape == (2, 3)
    w64 = np.ones((2, 3))
    fresh = optimizers.deserialize(optimizers.serialize(opt))
    fresh.apply([w64], [np.full((2, 3), 0.25)])
    np.testing.assert_allclose(w, w64, rtol=1e-6)


@pytest.mark.parametrize("opt", _all_optimizers(), ids=lambda o: type(o).__name__)
def test_state_round_trip_continues_bitwise(opt):
    rng = np.random.default_rng(5)
    params = [rng.normal(size=(4, 3)).astype(np.float32), rng.normal(size=5)]
    grads = [[rng.normal(size=p.shape).astype(p.dtype) for p in params] for _ in range(6)]
    for step in grads[:3]:
        opt.apply(params, step)
    config = json.loads(json.dumps(optimizers.serialize(opt)))
    state = opt.get_state()
    restored = optimizers.deserialize(config)
    restored.set_state(state)
    twins = [p.copy() for p in params]
    for step in grads[3:]:
        opt.apply(params, step)
        restored.apply(twins, step)
    for original, twin in zip(params, twins):
        assert np.array_equal(original, twin)
    assert restored.iterations == opt.iterations == 6
    for key, value in opt.get_state().items():
        assert np.array_equal(value, restored.get_state()[key])


def test_get_state_returns_copies():
    opt = optimizers.SGD(0.1, momentum=0.9)
    w = np.ones(2)
    opt.apply([w], [np.ones(2)])
    state = opt.get_state()
    state["momentum/0"][:] = 123.0
    assert not np.any(opt.get_state()["momentum/0"] == 123.0)


def test_set_state_before_first_apply():
    opt = optimizers.Adam()
    opt.set_state({"iterations": np.array(0)})
    w = np.ones(2)
    opt.apply([w], [np.ones(2)])
    np.testing.assert_allclose(w, _step(optimizers.Adam(), [1.0, 1.0], [1.0, 1.0]), rtol=0)


def test_set_state_accepts_one_element_iterations():
    opt = optimizers.SGD(0.1, decay=1.0)
    opt.set_state({"iterations": np.array([3])})
    assert opt.iterations == 3
    assert opt.current_learning_rate() == pytest.approx(0.025)


def test_set_state_rejects_bad_states():
    opt = optimizers.Adam()
    with pytest.raises(ValueError, match=r"non-negative integer scalar, got array\(\[1, 2\]\)"):
        opt.set_state({"iterations": np.array([1, 2])})
    with pytest.raises(ValueError, match="non-negative integer scalar"):
        opt.set_state({"iterations": np.array(-1)})
    with pytest.raises(ValueError, match="'iterations'"):
        opt.set_state({})
    with pytest.raises(ValueError, match=r"Unexpected key 'mystery/0'"):
        opt.set_state({"iterations": np.array(1), "mystery/0": np.zeros(2)})
    with pytest.raises(ValueError, match=r"velocity/0 .. velocity/0; found \[\]"):
        opt.set_state({"iterations": np.array(1), "momentum/0": np.zeros(2)})
    opt.set_state({"iterations": np.array(1), "momentum/0": np.zeros(2),
                   "velocity/0": np.zeros(2)})
    with pytest.raises(ValueError, match=r"slot momentum/0 is float64 \(2,\) but params\[0\] is "
                                         r"float64 \(3,\)"):
        opt.apply([np.zeros(3)], [np.zeros(3)])


def test_apply_argument_errors():
    opt = optimizers.SGD(0.1, momentum=0.5)
    with pytest.raises(ValueError, match=r"grads\[0\] shape \(3,\) does not match params\[0\] "
                                         r"shape \(2,\)"):
        opt.apply([np.zeros(2)], [np.zeros(3)])
    with pytest.raises(ValueError, match="2 params but 1 grads"):
        opt.apply([np.zeros(2), np.zeros(1)], [np.zeros(2)])
    with pytest.raises(TypeError, match=r"params\[0\] must be a float32 or float64"):
        opt.apply([np.zeros(2, dtype=np.int32)], [np.zeros(2)])
    opt.apply([np.zeros(2)], [np.zeros(2)])
    with pytest.raises(ValueError, match="holds state for 1 params but apply got 2"):
        opt.apply([np.zeros(2), np.zeros(2)], [np.zeros(2), np.zeros(2)])


def test_updates_in_place_on_views():
    buffer = np.ones((4, 4))
    view = buffer[::2, 1:3]
    optimizers.SGD(0.5).apply([view], [np.ones((2, 2))])
    assert buffer[0, 1] == 0.5
    assert buffer[1, 1] == 1.0


def test_learning_rate_is_settable_and_checked():
    opt = optimizers.SGD()
    assert opt.learning_rate == 0.01
    opt.learning_rate = 0.5
    assert _step(opt, [1.0], [1.0])[0] == 0.5
    assert opt.get_config()["learning_rate"] == 0.5
    with pytest.raises(ValueError, match=r"`learning_rate`.*learning_rate=-0.1"):
        opt.learning_rate = -0.1


def test_constructor_errors():
    with pytest.raises(ValueError, match=r"either `learning_rate` or its legacy alias `lr`.*"
                                         r"learning_rate=0.1, lr=0.2"):
        optimizers.SGD(learning_rate=0.1, lr=0.2)
    with pytest.raises(ValueError, match=r"learning_rate=-1.0"):
        optimizers.Adam(learning_rate=-1)
    with pytest.raises(ValueError, match=r"learning_rate=-0.5"):
        optimizers.SGD(lr=-0.5)
    with pytest.raises(TypeError, match=r"Unknown argument\(s\) for SGD: momentom"):
        optimizers.SGD(momentom=0.9)
    with pytest.raises(ValueError, match=r"`momentum`.*\[0, 1\].*momentum=1.5"):
        optimizers.SGD(momentum=1.5)
    with pytest.raises(ValueError, match=r"`beta_1`.*\[0, 1\).*beta_1=1.0"):
        optimizers.Adam(beta_1=1.0)
    with pytest.raises(ValueError, match=r"`decay`.*decay=-1.0"):
        optimizers.SGD(decay=-1)
    with pytest.raises(TypeError, match="nesterov"):
        optimizers.SGD(nesterov="yes")


def test_legacy_lr_alias_everywhere():
    assert optimizers.SGD(lr=0.2).learning_rate == 0.2
    assert optimizers.Adam(lr=0.02).learning_rate == 0.02
    assert optimizers.SGD(learning_rate=0.01, momentum=0.9).learning_rate == 0.01


def test_keras_defaults():
    assert optimizers.SGD().get_config() == {"name": "SGD", "learning_rate": 0.01, "decay": 0.0,
                                             "momentum": 0.0, "nesterov": False}
    adam = optimizers.get("adam")
    assert (adam.learning_rate, adam.beta_1, adam.beta_2, adam.epsilon) == (0.001, 0.9, 0.999,
                                                                           1e-7)
    rms = optimizers.get("rmsprop")
    assert (rms.learning_rate, rms.rho, rms.epsilon, rms.momentum, rms.centered) == (
        0.001, 0.9, 1e-7, 0.0, False)
    ada = optimizers.get("adagrad")
    assert (ada.learning_rate, ada.initial_accumulator_value, ada.epsilon) == (0.001, 0.1, 1e-7)
    delta = optimizers.get("adadelta")
    assert (delta.learning_rate, delta.rho, delta.epsilon) == (0.001, 0.95, 1e-7)


def test_get_and_serialize():
    for name, cls in [("sgd", optimizers.SGD), ("adam", optimizers.Adam),
                      ("rmsprop", optimizers.RMSprop), ("adagrad", optimizers.Adagrad),
                      ("adadelta", optimizers.Adadelta), ("Adam", optimizers.Adam)]:
        assert type(optimizers.get(name)) is cls
    opt = optimizers.SGD(lr=0.01, decay=1e-6, momentum=0.9, nesterov=True)
    assert optimizers.get(opt) is opt
    config = optimizers.serialize(opt)
    assert config == {"class_name": "SGD", "config": {
        "name": "SGD", "learning_rate": 0.01, "decay": 1e-6, "momentum": 0.9, "nesterov": True}}
    assert optimizers.deserialize(config).get_config() == opt.get_config()
    with pytest.raises(ValueError, match=r"Unknown optimizer 'nadam'.*adadelta.*sgd"):
        optimizers.get("nadam")
    with pytest.raises(ValueError, match="Could not interpret optimizer identifier"):
        optimizers.get(3.0)


def _numpy_sgd(w, g, v, lr, momentum, nesterov):
    """SGD's update as six in-place numpy operations: what the compiled pass must equal."""
    dtype = w.dtype
    step = np.multiply(g, dtype.type(lr))
    if v is None:
        w -= step
        return
    v *= dtype.type(momentum)
    v -= step
    if nesterov:
        w -= step
        w += v * dtype.type(momentum)
    else:
        w += v


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("momentum, nesterov", [(0.0, False), (0.9, False), (0.9, True)])
def test_sgd_compiled_update_equals_numpy_operations_bitwise(dtype, momentum, nesterov):
    rng = np.random.default_rng(8)
    w = rng.normal(size=(300, 130)).astype(dtype)  # several of the kernel's work blocks
    v = rng.normal(size=w.shape).astype(dtype) if momentum else None
    w_ref, v_ref = w.copy(), None if v is None else v.copy()
    opt = optimizers.SGD(0.01, momentum=momentum, nesterov=nesterov)
    if v is not None:
        opt.apply([w], [np.zeros_like(w)])  # creates the slot, then start both from v
        w[...] = w_ref
        opt.slot("momentum", 0)[...] = v
        opt.iterations = 0
    for _ in range(3):
        g = rng.normal(size=w.shape).astype(dtype)
        opt.apply([w], [g])
        _numpy_sgd(w_ref, g, v_ref, 0.01, momentum, nesterov)
    assert np.array_equal(w, w_ref)
    if v is not None:
        assert np.array_equal(opt.slot("momentum", 0), v_ref)


def test_sgd_compiled_update_rejects_bad_arguments():
    from cnnkit import _core

    w = np.ones((2, 3), np.float32)
    with pytest.raises(ValueError, match=r"gradient must have shape \(2, 3\), got \(3, 2\)"):
        _core.sgd_update(w, np.ones((3, 2), np.float32), None, 0.1)
    with pytest.raises(ValueError, match=r"velocity must have shape \(2, 3\), got \(6,\)"):
        _core.sgd_update(w, w.copy(), np.zeros(6, np.float32), 0.1, 0.9)
    with pytest.raises(ValueError, match="variable must be C-contiguous and writeable"):
        _core.sgd_update(np.ones((3, 2), np.float32).T, w, None, 0.1)
    with pytest.raises(TypeError, match="sgd_update: velocity must be a numpy array of float32"):
        _core.sgd_update(w, w.copy(), np.zeros((2, 3)), 0.1, 0.9)
