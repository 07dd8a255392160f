"""Losses against independent float64 formulas, their gradients against central differences,
the fused logits paths against the unfused ones, lookup/serialization and input errors."""

import json

import numpy as np
import pytest

from cnnkit import losses

EPS = 1e-7


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


# Independent references: Keras's documented formulas, written out directly in float64.
def ref_categorical(y, p):
    q = np.clip(p / p.sum(axis=-1, keepdims=True), EPS, 1 - EPS)
    return -(y * np.log(q)).sum(axis=-1)


def ref_binary(y, p):
    q = np.clip(p, EPS, 1 - EPS)
    return (-(y * np.log(q) + (1 - y) * np.log(1 - q))).mean(axis=-1)


def _probabilities(rng, shape):
    return _softmax(rng.normal(size=shape))


def _one_hot(labels, classes):
    return np.eye(classes)[labels]


def _numeric_grad(f, x, h=1e-6):
    """Central differences of the scalar f at x (float64)."""
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        saved = flat[i]
        flat[i] = saved + h
        up = f(x)
        flat[i] = saved - h
        down = f(x)
        flat[i] = saved
        gflat[i] = (up - down) / (2 * h)
    return grad


@pytest.fixture
def rng():
    return np.random.default_rng(7)


def test_categorical_crossentropy_matches_reference(rng):
    p = _probabilities(rng, (6, 5))
    y = _one_hot(rng.integers(0, 5, 6), 5)
    loss = losses.CategoricalCrossentropy()
    assert loss(y, p) == pytest.approx(ref_categorical(y, p).mean(), rel=1e-12)
    np.testing.assert_allclose(losses.categorical_crossentropy(y, p), ref_categorical(y, p),
                               rtol=1e-12)


def test_categorical_crossentropy_hand_value():
    # -log(0.7) for the first sample, -log(0.8) for the second.
    p = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    y = np.array([[1.0, 0, 0], [0, 0, 1.0]])
    assert losses.CategoricalCrossentropy()(y, p) == pytest.approx(
        (-np.log(0.7) - np.log(0.8)) / 2, rel=1e-12)


def test_categorical_crossentropy_renormalises_and_clips_like_keras():
    # Unnormalised probabilities are divided by their sum; a zero is clipped to 1e-7.
    p = np.array([[2.0, 2.0, 0.0]])
    assert losses.CategoricalCrossentropy()(np.array([[0.0, 0, 1]]), p) == pytest.approx(
        -np.log(EPS), rel=1e-9)
    assert losses.CategoricalCrossentropy()(np.array([[1.0, 0, 0]]), p) == pytest.approx(
        -np.log(0.5), rel=1e-12)


def test_sparse_categorical_equals_categorical_on_one_hot(rng):
    p = _probabilities(rng, (7, 4))
    labels = rng.integers(0, 4, 7)
    dense = losses.CategoricalCrossentropy()(_one_hot(labels, 4), p)
    sparse = losses.SparseCategoricalCrossentropy()
    assert sparse(labels, p) == pytest.approx(dense, rel=1e-12)
    assert sparse(labels.reshape(-1, 1), p) == pytest.approx(dense, rel=1e-12)
    assert sparse(labels.astype(np.float32), p) == pytest.approx(dense, rel=1e-12)


def test_binary_crossentropy_matches_reference(rng):
    p = _sigmoid(rng.normal(size=(5, 3)))
    y = rng.integers(0, 2, (5, 3)).astype(np.float64)
    np.testing.assert_allclose(losses.binary_crossentropy(y, p), ref_binary(y, p), rtol=1e-12)
    assert losses.BinaryCrossentropy()(y, p) == pytest.approx(ref_binary(y, p).mean(), rel=1e-12)


def test_binary_crossentropy_one_column_and_flat_targets(rng):
    p = _sigmoid(rng.normal(size=(6, 1)))
    y = rng.integers(0, 2, 6).astype(np.float64)
    expected = ref_binary(y.reshape(-1, 1), p).mean()
    assert losses.BinaryCrossentropy()(y, p) == pytest.approx(expected, rel=1e-12)
    assert losses.BinaryCrossentropy()(y, p.ravel()) == pytest.approx(expected, rel=1e-12)
    assert losses.binary_crossentropy(y, p.ravel()).shape == (6,)


def test_regression_losses_match_reference(rng):
    p, y = rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    np.testing.assert_allclose(losses.mean_squared_error(y, p), ((p - y) ** 2).mean(axis=-1))
    np.testing.assert_allclose(losses.mean_absolute_error(y, p), np.abs(p - y).mean(axis=-1))
    assert losses.MeanSquaredError()(y, p) == pytest.approx(((p - y) ** 2).mean(), rel=1e-12)
    assert losses.MeanAbsoluteError()(y, p) == pytest.approx(np.abs(p - y).mean(), rel=1e-12)


def test_per_sample_values_over_last_axis(rng):
    p = _probabilities(rng, (2, 3, 4))
    y = _one_hot(rng.integers(0, 4, (2, 3)), 4)
    values = losses.categorical_crossentropy(y, p)
    assert values.shape == (2, 3)
    np.testing.assert_allclose(values, ref_categorical(y, p), rtol=1e-12)
    assert losses.CategoricalCrossentropy()(y, p) == pytest.approx(values.mean(), rel=1e-12)


def test_label_smoothing(rng):
    p = _probabilities(rng, (3, 4))
    y = _one_hot([0, 1, 3], 4)
    smoothed = y * 0.8 + 0.2 / 4
    assert losses.CategoricalCrossentropy(label_smoothing=0.2)(y, p) == pytest.approx(
        ref_categorical(smoothed, p).mean(), rel=1e-12)
    q = _sigmoid(rng.normal(size=(3, 2)))
    t = np.array([[0.0, 1], [1, 1], [0, 0]])
    assert losses.BinaryCrossentropy(label_smoothing=0.2)(t, q) == pytest.approx(
        ref_binary(t * 0.8 + 0.1, q).mean(), rel=1e-12)


def test_from_logits_matches_probabilities(rng):
    z = rng.normal(size=(5, 4))
    labels = rng.integers(0, 4, 5)
    y = _one_hot(labels, 4)
    expected = ref_categorical(y, _softmax(z)).mean()
    assert losses.CategoricalCrossentropy(from_logits=True)(y, z) == pytest.approx(expected,
                                                                                   rel=1e-9)
    assert losses.SparseCategoricalCrossentropy(from_logits=True)(labels, z) == pytest.approx(
        expected, rel=1e-9)
    zb = rng.normal(size=(5, 2))
    t = rng.integers(0, 2, (5, 2)).astype(np.float64)
    assert losses.BinaryCrossentropy(from_logits=True)(t, zb) == pytest.approx(
        ref_binary(t, _sigmoid(zb)).mean(), rel=1e-9)


def test_from_logits_is_stable_for_large_logits():
    z = np.array([[1000.0, -1000.0, 0.0]])
    value = losses.CategoricalCrossentropy(from_logits=True)(np.array([[0.0, 1, 0]]), z)
    assert value == pytest.approx(2000.0, rel=1e-12)
    b = losses.BinaryCrossentropy(from_logits=True)(np.array([[1.0, 0.0]]),
                                                     np.array([[-800.0, 800.0]]))
    assert b == pytest.approx(800.0, rel=1e-12)


GRAD_CASES = [
    ("categorical", lambda: losses.CategoricalCrossentropy(), "probs"),
    ("categorical_logits", lambda: losses.CategoricalCrossentropy(from_logits=True), "logits"),
    ("categorical_smoothed", lambda: losses.CategoricalCrossentropy(label_smoothing=0.1),
     "probs"),
    ("sparse", lambda: losses.SparseCategoricalCrossentropy(), "probs"),
    ("sparse_logits", lambda: losses.SparseCategoricalCrossentropy(from_logits=True), "logits"),
    ("binary", lambda: losses.BinaryCrossentropy(), "binary_probs"),
    ("binary_logits", lambda: losses.BinaryCrossentropy(from_logits=True), "logits"),
    ("mse", lambda: losses.MeanSquaredError(), "logits"),
    ("mae", lambda: losses.MeanAbsoluteError(), "logits"),
]


def _inputs(kind, loss, rng):
    """Targets and predictions kept away from clip bounds and the |x| kink."""
    shape = (4, 3)
    if kind == "probs":
        y_pred = rng.uniform(0.2, 1.0, shape)  # unnormalised on purpose: exercises the division
    elif kind == "binary_probs":
        y_pred = rng.uniform(0.1, 0.9, shape)
    else:
        y_pred = rng.normal(size=shape)
    labels = rng.integers(0, 3, 4)
    if isinstance(loss, losses.SparseCategoricalCrossentropy):
        return labels, y_pred
    if isinstance(loss, losses.CategoricalCrossentropy):
        return _one_hot(labels, 3), y_pred
    if isinstance(loss, losses.BinaryCrossentropy):
        return rng.integers(0, 2, shape).astype(np.float64), y_pred
    y_true = y_pred + rng.choice([-1.0, 1.0], shape) * rng.uniform(0.1, 1.0, shape)
    return y_true, y_pred


@pytest.mark.parametrize(("label", "make", "kind"), GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_gradient_matches_finite_differences(label, make, kind, rng):
    loss = make()
    y_true, y_pred = _inputs(kind, loss, rng)
    value, grad = loss.forward_backward(y_true, y_pred)
    assert value == pytest.approx(loss(y_true, y_pred), rel=1e-12)
    assert grad.shape == y_pred.shape
    assert grad.dtype == np.float64
    numeric = _numeric_grad(lambda p: loss(y_true, p), y_pred.copy())
    np.testing.assert_allclose(grad, numeric, rtol=1e-5, atol=1e-8)


def test_gradient_keeps_float32(rng):
    p = _probabilities(rng, (3, 4)).astype(np.float32)
    y = _one_hot([0, 1, 2], 4).astype(np.float32)
    for loss in (losses.CategoricalCrossentropy(), losses.MeanSquaredError(),
                 losses.BinaryCrossentropy()):
        value, grad = loss.forward_backward(y, p)
        assert isinstance(value, float)
        assert grad.dtype == np.float32
        _, grad64 = loss.forward_backward(y.astype(np.float64), p.astype(np.float64))
        np.testing.assert_allclose(grad, grad64, rtol=1e-4, atol=1e-6)


def test_integer_predictions_compute_in_float32():
    _, grad = losses.MeanSquaredError().forward_backward(np.array([[1.0]]), np.array([[3]]))
    assert grad.dtype == np.float32
    assert grad[0, 0] == pytest.approx(4.0)


def _softmax_backward(p, dp):
    return p * (dp - (dp * p).sum(axis=-1, keepdims=True))


@pytest.mark.parametrize("sparse", [False, True])
def test_fused_softmax_matches_unfused(sparse, rng):
    z = rng.normal(size=(5, 4))
    labels = rng.integers(0, 4, 5)
    y = labels if sparse else _one_hot(labels, 4)
    loss = losses.SparseCategoricalCrossentropy() if sparse else losses.CategoricalCrossentropy()
    fused_value, fused_grad = loss.forward_backward_from_logits(y, z, "softmax")
    p = _softmax(z)
    value, dp = loss.forward_backward(y, p)
    assert fused_value == pytest.approx(value, rel=1e-9)
    np.testing.assert_allclose(fused_grad, _softmax_backward(p, dp), rtol=1e-7, atol=1e-12)
    # The documented closed form: (softmax - y) / N.
    np.testing.assert_allclose(fused_grad, (p - _one_hot(labels, 4)) / 5, rtol=1e-12,
                               atol=1e-15)


def test_fused_sigmoid_matches_unfused(rng):
    z = rng.normal(size=(6, 2))
    t = rng.integers(0, 2, (6, 2)).astype(np.float64)
    loss = losses.BinaryCrossentropy()
    fused_value, fused_grad = loss.forward_backward_from_logits(t, z, "sigmoid")
    p = _sigmoid(z)
    value, dp = loss.forward_backward(t, p)
    assert fused_value == pytest.approx(value, rel=1e-9)
    np.testing.assert_allclose(fused_grad, dp * p * (1 - p), rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(fused_grad, (p - t) / t.size, rtol=1e-12, atol=1e-15)


def test_fused_sigmoid_single_column_keeps_shape(rng):
    z = rng.normal(size=(5,))
    t = rng.integers(0, 2, 5)
    value, grad = losses.BinaryCrossentropy().forward_backward_from_logits(t, z, "sigmoid")
    assert grad.shape == (5,)
    np.testing.assert_allclose(grad, (_sigmoid(z) - t) / 5, rtol=1e-12)
    assert value == pytest.approx(ref_binary(t.reshape(-1, 1), _sigmoid(z).reshape(-1, 1)).mean(),
                                  rel=1e-9)


def test_fused_path_is_stable_where_unfused_clips():
    z = np.array([[60.0, -60.0]])
    value, grad = losses.CategoricalCrossentropy().forward_backward_from_logits(
        np.array([[0.0, 1.0]]), z, "softmax")
    assert value == pytest.approx(120.0, rel=1e-12)
    np.testing.assert_allclose(grad, [[1.0, -1.0]], atol=1e-12)


def test_no_fused_form_returns_none():
    z = np.zeros((2, 3))
    y = np.eye(3)[:2]
    assert losses.CategoricalCrossentropy().forward_backward_from_logits(y, z, "sigmoid") is None
    assert losses.CategoricalCrossentropy(from_logits=True).forward_backward_from_logits(
        y, z, "softmax") is None
    assert losses.BinaryCrossentropy().forward_backward_from_logits(y, z, "softmax") is None
    assert losses.MeanSquaredError().forward_backward_from_logits(y, z, "softmax") is None


def test_empty_batch_gives_zero_loss():
    value, grad = losses.CategoricalCrossentropy().forward_backward(np.zeros((0, 3)),
                                                                    np.zeros((0, 3)))
    assert value == 0.0
    assert grad.shape == (0, 3)


def test_batch_size_mismatch_names_shapes():
    with pytest.raises(ValueError, match=r"different batch sizes.*\(3, 2\).*\(4, 2\)"):
        losses.MeanSquaredError()(np.zeros((3, 2)), np.zeros((4, 2)))


def test_sparse_labels_out_of_range():
    p = np.full((3, 4), 0.25)
    with pytest.raises(ValueError, match=r"in \[0, 4\).*from 0 to 4"):
        losses.SparseCategoricalCrossentropy()(np.array([0, 4, 1]), p)
    with pytest.raises(ValueError, match=r"from -1 to 2"):
        losses.SparseCategoricalCrossentropy(from_logits=True)(np.array([-1, 2, 1]), p)


def test_sparse_labels_must_be_whole_and_fit_shape():
    p = np.full((2, 4), 0.25)
    with pytest.raises(ValueError, match="whole numbers"):
        losses.SparseCategoricalCrossentropy()(np.array([0.5, 1.0]), p)
    with pytest.raises(ValueError, match=r"y_true shape \(2, 4\) does not fit y_pred shape"):
        losses.SparseCategoricalCrossentropy()(np.zeros((2, 4)), p)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_targets_rejected(bad):
    y = np.array([[0.0, 1.0], [bad, 0.0]])
    for loss in (losses.CategoricalCrossentropy(), losses.BinaryCrossentropy(),
                 losses.MeanSquaredError(), losses.MeanAbsoluteError()):
        with pytest.raises(ValueError, match=r"y_true contains 1 NaN or inf.*\(2, 2\)"):
            loss(y, np.full((2, 2), 0.5))
    with pytest.raises(ValueError, match="NaN or inf labels"):
        losses.SparseCategoricalCrossentropy()(np.array([0.0, bad]), np.full((2, 2), 0.5))


def test_categorical_shape_mismatch_suggests_sparse():
    with pytest.raises(ValueError, match=r"\(4,\) does not match y_pred shape \(4, 3\).*sparse"):
        losses.CategoricalCrossentropy()(np.array([0, 1, 2, 0]), np.full((4, 3), 1 / 3))


def test_elementwise_shape_mismatch():
    with pytest.raises(ValueError, match=r"y_true shape \(2, 3\) does not match y_pred shape "
                                         r"\(2, 2\)"):
        losses.MeanSquaredError()(np.zeros((2, 3)), np.zeros((2, 2)))


def test_constructor_argument_errors():
    with pytest.raises(ValueError, match=r"label_smoothing=1\.5"):
        losses.CategoricalCrossentropy(label_smoothing=1.5)
    with pytest.raises(TypeError, match="from_logits must be a bool"):
        losses.BinaryCrossentropy(from_logits="yes")


def test_get_by_names_functions_and_instances():
    for name, cls in [("categorical_crossentropy", losses.CategoricalCrossentropy),
                      ("sparse_categorical_crossentropy", losses.SparseCategoricalCrossentropy),
                      ("binary_crossentropy", losses.BinaryCrossentropy),
                      ("mse", losses.MeanSquaredError), ("mean_squared_error",
                                                         losses.MeanSquaredError),
                      ("mae", losses.MeanAbsoluteError), ("mean_absolute_error",
                                                          losses.MeanAbsoluteError),
                      ("CategoricalCrossentropy", losses.CategoricalCrossentropy)]:
        assert type(losses.get(name)) is cls
    assert type(losses.get(losses.categorical_crossentropy)) is losses.CategoricalCrossentropy
    assert type(losses.get(losses.mse)) is losses.MeanSquaredError
    instance = losses.BinaryCrossentropy(from_logits=True)
    assert losses.get(instance) is instance
    assert losses.get(None) is None
    assert losses.get("mse").name == "mean_squared_error"
    assert losses.get("sparse_categorical_crossentropy").name == "sparse_categorical_crossentropy"


def test_get_unknown_lists_names():
    with pytest.raises(ValueError, match=r"Unknown loss 'hinge'.*binary_crossentropy.*mse"):
        losses.get("hinge")
    with pytest.raises(ValueError, match="Could not interpret loss identifier"):
        losses.get(42)


def test_serialize_round_trip_through_json(rng):
    p = _probabilities(rng, (3, 4))
    y = _one_hot([0, 3, 1], 4)
    for loss in (losses.CategoricalCrossentropy(from_logits=False, label_smoothing=0.1),
                 losses.SparseCategoricalCrossentropy(from_logits=True),
                 losses.BinaryCrossentropy(label_smoothing=0.2, name="bce"),
                 losses.MeanSquaredError(), losses.MeanAbsoluteError()):
        restored = losses.deserialize(json.loads(json.dumps(losses.serialize(loss))))
        assert type(restored) is type(loss)
        assert restored.get_config() == loss.get_config()
        if isinstance(loss, losses.SparseCategoricalCrossentropy):
            assert restored([0, 3, 1], p) == loss([0, 3, 1], p)
        else:
            assert restored(y, p) == loss(y, p)


def test_deserialize_rejects_unknown_class():
    with pytest.raises(ValueError, match="Unknown loss class 'Hinge'"):
        losses.deserialize({"class_name": "Hinge", "config": {}})
