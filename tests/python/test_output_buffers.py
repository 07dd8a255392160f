"""Large op results reuse the memory of freed ones; live results never share memory."""

import numpy as np

import cnnkit


def _conv(x, w):
    return cnnkit.ops.conv2d(x, w)


def test_freed_large_result_memory_is_reused_and_live_results_stay_apart():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 64, 64, 3), dtype=np.float32)  # 16x62x62x32 out: 7.9 MB
    w = rng.standard_normal((3, 3, 3, 32), dtype=np.float32)
    first = _conv(x, w)
    expected = first.copy()
    address = first.ctypes.data
    assert address % 64 == 0
    assert first.flags.c_contiguous and first.flags.writeable
    del first
    second = _conv(x, w)
    assert second.ctypes.data == address  # the freed buffer, filled afresh
    np.testing.assert_array_equal(second, expected)
    third = _conv(x, w)
    assert third.ctypes.data != second.ctypes.data
    second[...] = 0  # writing one live result leaves the other alone
    np.testing.assert_array_equal(third, expected)


def test_results_outlive_many_calls_of_other_sizes():
    rng = np.random.default_rng(1)
    w = rng.standard_normal((3, 3, 2, 8), dtype=np.float32)
    kept = []
    for size in range(20, 60, 2):  # more sizes than the pool holds
        x = rng.standard_normal((64, size, size, 2), dtype=np.float32)
        y = _conv(x, w)
        kept.append((y, y.copy()))
        _conv(x, w)  # a result freed at once
    for y, copy in kept:
        np.testing.assert_array_equal(y, copy)

