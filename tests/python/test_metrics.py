"""Metrics: accuracy resolution from the loss and from shapes, running means, names, errors."""

import numpy as np
import pytest

from cnnkit import losses, metrics

PROBS = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8], [0.3, 0.4, 0.3], [0.5, 0.1, 0.4]])
LABELS = np.array([0, 2, 0, 0])  # predicted classes are 0, 2, 1, 0: three of four right


@pytest.mark.parametrize(
    ("loss", "cls"),
    [("binary_crossentropy", metrics.BinaryAccuracy),
     (losses.BinaryCrossentropy(from_logits=True), metrics.BinaryAccuracy),
     ("sparse_categorical_crossentropy", metrics.SparseCategoricalAccuracy),
     (losses.sparse_categorical_crossentropy, metrics.SparseCategoricalAccuracy),
     ("categorical_crossentropy", metrics.CategoricalAccuracy),
     (losses.CategoricalCrossentropy(), metrics.CategoricalAccuracy)],
)
def test_accuracy_follows_the_loss(loss, cls):
    metric = metrics.get("accuracy", loss)
    assert type(metric) is cls
    assert metric.name == "accuracy"
    assert metrics.get("acc", loss).name == "acc"


def test_binary_accuracy_from_loss_uses_threshold_half():
    metric = metrics.get("accuracy", "binary_crossentropy")
    metric.update_state(np.array([[1.0], [0.0], [1.0]]), np.array([[0.6], [0.5], [0.4]]))
    assert metric.result() == pytest.approx(2 / 3)


def test_sparse_accuracy_values():
    metric = metrics.get("accuracy", "sparse_categorical_crossentropy")
    metric.update_state(LABELS, PROBS)
    assert metric.result() == pytest.approx(0.75)
    metric.reset_state()
    metric.update_state(LABELS.reshape(-1, 1), PROBS)
    assert metric.result() == pytest.approx(0.75)


def test_categorical_accuracy_values():
    metric = metrics.get("accuracy", "categorical_crossentropy")
    metric.update_state(np.eye(3)[LABELS], PROBS)
    assert metric.result() == pytest.approx(0.75)


@pytest.mark.parametrize(
    ("y_true", "y_pred", "expected"),
    [(np.eye(3)[LABELS], PROBS, 0.75),                      # one-hot -> categorical
     (LABELS, PROBS, 0.75),                                 # one rank lower -> sparse
     (LABELS.reshape(-1, 1), PROBS, 0.75),                  # trailing 1 -> sparse
     (np.array([[1.0], [0.0]]), np.array([[0.9], [0.7]]), 0.5)],  # one column -> binary
)
def test_accuracy_for_other_losses_resolves_from_shapes(y_true, y_pred, expected):
    metric = metrics.get("accuracy", "mse")
    metric.update_state(y_true, y_pred)
    assert metric.result() == pytest.approx(expected)
    assert metric.name == "accuracy"


def test_result_is_sample_weighted_over_batches():
    metric = metrics.SparseCategoricalAccuracy()
    metric.update_state(LABELS, PROBS)                  # 3 of 4
    metric.update_state(np.array([1]), np.array([[0.0, 1.0, 0.0]]))  # 1 of 1
    assert metric.result() == pytest.approx(4 / 5)      # not the mean of 0.75 and 1.0
    metric.reset_state()
    assert metric.result() == 0.0


def test_binary_accuracy_threshold_and_per_sample_mean():
    metric = metrics.BinaryAccuracy(threshold=0.3)
    metric.update_state(np.array([[1, 0], [0, 0]]), np.array([[0.4, 0.2], [0.35, 0.1]]))
    assert metric.result() == pytest.approx(3 / 4)
    np.testing.assert_allclose(metrics.binary_accuracy(np.array([[1, 0], [1, 1]]),
                                                       np.array([[0.9, 0.2], [0.1, 0.8]])),
                               [1.0, 0.5])


def test_error_metrics_match_numpy():
    rng = np.random.default_rng(3)
    y, p = rng.normal(size=(5, 2)), rng.normal(size=(5, 2))
    mse, mae = metrics.get("mse"), metrics.get("mae")
    for first, last in ((0, 2), (2, 5)):
        mse.update_state(y[first:last], p[first:last])
        mae.update_state(y[first:last], p[first:last])
    assert mse.result() == pytest.approx(np.mean((y - p) ** 2), rel=1e-12)
    assert mae.result() == pytest.approx(np.mean(np.abs(y - p)), rel=1e-12)
    assert (mse.name, mae.name) == ("mse", "mae")
    assert metrics.get("mean_squared_error").name == "mean_squared_error"


def test_get_names_instances_and_functions():
    assert type(metrics.get("binary_accuracy")) is metrics.BinaryAccuracy
    assert type(metrics.get("categorical_accuracy")) is metrics.CategoricalAccuracy
    assert type(metrics.get("sparse_categorical_accuracy")) is metrics.SparseCategoricalAccuracy
    assert type(metrics.get(metrics.BinaryAccuracy)) is metrics.BinaryAccuracy
    instance = metrics.CategoricalAccuracy(name="top1")
    assert metrics.get(instance) is instance
    by_function = metrics.get(metrics.sparse_categorical_accuracy)
    assert by_function.name == "sparse_categorical_accuracy"
    custom = metrics.get(lambda y, p: np.abs(np.asarray(p) - np.asarray(y)).max(axis=-1))
    custom.update_state(np.zeros((2, 2)), np.array([[1.0, -3.0], [0.5, 0.0]]))
    assert custom.result() == pytest.approx(1.75)


def test_unknown_metric_lists_names():
    with pytest.raises(ValueError, match=r"Unknown metric 'f1'.*accuracy.*mae"):
        metrics.get("f1")


def test_batch_mismatch_and_shape_errors():
    with pytest.raises(ValueError, match=r"different batch sizes.*\(3,\).*\(4, 3\)"):
        metrics.SparseCategoricalAccuracy().update_state(np.zeros(3), PROBS)
    with pytest.raises(ValueError, match=r"one-hot y_true.*\(4, 2\).*\(4, 3\)"):
        metrics.CategoricalAccuracy().update_state(np.zeros((4, 2)), PROBS)
