"""Thread settings: the API, the environment variable, and thread-count invariance."""

import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import cnnkit
from cnnkit import _core, ops


@pytest.fixture
def restore_threads():
    saved = cnnkit.get_num_threads()
    yield
    cnnkit.set_num_threads(saved)


def test_set_and_get(restore_threads):
    cnnkit.set_num_threads(1)
    assert cnnkit.get_num_threads() == 1
    with pytest.raises(ValueError, match="num_threads must be between 1 and 4096, got 0"):
        cnnkit.set_num_threads(0)
    with pytest.raises(TypeError):
        cnnkit.set_num_threads("2")


def run_python(code: str, **env) -> str:
    environment = {k: v for k, v in os.environ.items() if k not in ("CNNKIT_NUM_THREADS", "OMP_NUM_THREADS", "CNNKIT_ISA")}
    environment.update(env)
    return subprocess.run([sys.executable, "-c", code], env=environment, check=True,
                          capture_output=True, text=True).stdout.strip()


def test_environment_variables_set_the_default():
    code = "import cnnkit; print(cnnkit.get_num_threads())"
    assert run_python(code, CNNKIT_NUM_THREADS="3", OMP_NUM_THREADS="5") == "3"
    assert run_python(code, OMP_NUM_THREADS="5") == "5"
    assert run_python(code) == str(len(os.sched_getaffinity(0)))
    assert run_python(code, CNNKIT_NUM_THREADS="junk") == str(len(os.sched_getaffinity(0)))


def test_isa_can_be_capped_by_the_environment():
    isas = _core.available_isas()
    assert isas[0] == "baseline"
    for isa in isas:
        assert run_python("from cnnkit import _core; print(_core.active_isa())", CNNKIT_ISA=isa) == isa


@pytest.mark.parametrize("isa", _core.available_isas())
def test_one_and_two_threads_agree(restore_threads, isa):
    saved_isa = _core.active_isa()
    _core.set_isa(isa)
    try:
        rng = np.random.default_rng(0)
        x = rng.standard_normal((5, 15, 13, 9)).astype("f")
        kernel = rng.standard_normal((3, 3, 9, 20)).astype("f")
        dy = rng.standard_normal((5, 8, 7, 20)).astype("f")
        kw = dict(strides=2, padding="same")
        results = {}
        for threads in (1, 2):
            cnnkit.set_num_threads(threads)
            results[threads] = [ops.conv2d(x, kernel, **kw), *ops.conv2d_backward(x, kernel, dy, **kw),
                                ops.max_pool2d(x, 3, 1, "same"), ops.dense(x.reshape(5, -1), x.reshape(-1, 5)[:1755])]
        for one, two in zip(results[1], results[2]):
            np.testing.assert_allclose(one, two, rtol=1e-5, atol=1e-4)
    finally:
        _core.set_isa(saved_isa)


def test_kernels_cover_all_work_when_openmp_gives_fewer_threads():
    """With OMP_THREAD_LIMIT=1 a two-thread call runs on a team of one, which does every item."""
    code = """
import numpy as np, cnnkit
from cnnkit import ops
rng = np.random.default_rng(0)
x = rng.standard_normal((4, 14, 14, 32)).astype("f")
kernel = rng.standard_normal((3, 3, 32, 32)).astype("f")
dy = rng.standard_normal((4, 14, 14, 32)).astype("f")
results = []
for threads in (1, 2):
    cnnkit.set_num_threads(threads)
    kw = dict(padding="same")
    results.append([ops.conv2d(x, kernel, **kw), *ops.conv2d_backward(x, kernel, dy, **kw)])
print(max(float(np.abs(a - b).max() / np.abs(a).max()) for a, b in zip(*results)))
"""
    assert float(run_python(code, OMP_THREAD_LIMIT="1")) < 1e-6


def test_gil_is_released_during_kernels(restore_threads):
    """Python code keeps running in another thread while a kernel computes.

    If the kernel held the GIL, the main thread could only count during the few microseconds of
    Python argument handling; with the GIL released it counts for the whole kernel.
    """
    cnnkit.set_num_threads(1)
    x = np.ones((64, 64, 64, 32), "f")
    kernel = np.ones((3, 3, 32, 64), "f")
    started = threading.Event()

    def work():
        started.set()
        ops.conv2d(x, kernel)

    worker = threading.Thread(target=work)
    worker.start()
    started.wait()
    count = 0
    while worker.is_alive():
        count += 1
    worker.join()
    assert count > 100_000
