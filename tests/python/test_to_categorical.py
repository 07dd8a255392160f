"""cnnkit.utils.to_categorical against Keras's documented behaviour."""

import numpy as np
import pytest

from cnnkit.utils import to_categorical


def test_one_hot_rows():
    result = to_categorical([0, 2, 1, 2], num_classes=3)
    np.testing.assert_array_equal(result, [[1, 0, 0], [0, 0, 1], [0, 1, 0], [0, 0, 1]])
    assert result.dtype == np.float32


def test_num_classes_inferred_from_max():
    assert to_categorical(np.array([1, 4])).shape == (2, 5)


def test_trailing_axis_of_one_is_dropped():
    labels = np.array([[3], [0], [1]], dtype=np.uint8)  # as cifar10.load_data returns them
    np.testing.assert_array_equal(to_categorical(labels, 4), np.eye(4)[[3, 0, 1]])


def test_higher_rank_labels_keep_their_shape():
    labels = np.array([[0, 1, 2], [2, 1, 0]])
    result = to_categorical(labels, 3)
    assert result.shape == (2, 3, 3)
    np.testing.assert_array_equal(result.argmax(axis=-1), labels)


def test_whole_float_labels_accepted():
    np.testing.assert_array_equal(to_categorical(np.array([1.0, 0.0]), 2), [[0, 1], [1, 0]])


@pytest.mark.parametrize(
    ("labels", "num_classes", "message"),
    [([0, 3], 3, r"label 3 but num_classes=3 allows only 0\.\.2"),
     ([-1, 0], None, r"labels >= 0, got a minimum of -1"),
     ([0.5], 2, r"whole-number class labels"),
     ([], None, r"num_classes is required when y is empty"),
     ([0], 0, r"num_classes must be a positive integer, got 0")],
)
def test_errors(labels, num_classes, message):
    with pytest.raises(ValueError, match=message):
        to_categorical(labels, num_classes)
