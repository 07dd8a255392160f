"""cnnkit's float32 matrix product against numpy's matmul (its BLAS), at the same threads.

    python benchmarks/gemm.py --threads 1 --size 1024

Times c = a . b for square float32 matrices (warm-up, median of --repeat runs) and prints
GFLOP/s (2 * M * N * K per product), the ratio cnnkit / numpy and cnnkit's share of the FMA
peak measured by benchmarks/peak.cpp. numpy's BLAS is limited to --threads with threadpoolctl
when it is installed; otherwise the script reruns itself with OPENBLAS_NUM_THREADS (and the
MKL/OMP equivalents) set before numpy is imported.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _bench  # noqa: E402

_BLAS_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS")


def blas_limit(threads: int):
    """A context limiting numpy's BLAS to `threads`, or None without threadpoolctl."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    return threadpool_limits(limits=threads, user_api="blas")


def main() -> None:
    p = _bench.parser(__doc__.splitlines()[0], "gemm_results.json")
    p.add_argument("--size", type=int, default=1024, help="M = N = K")
    args = p.parse_args()
    _bench.cap_isa(args.isa)
    _bench.use_clock(args.clock)

    try:
        import threadpoolctl  # noqa: F401
    except ImportError:
        if not all(os.environ.get(v) == str(args.threads) for v in _BLAS_THREAD_VARS):
            env = dict(os.environ, **{v: str(args.threads) for v in _BLAS_THREAD_VARS})
            sys.exit(subprocess.call([sys.executable, *sys.argv], env=env))

    import numpy as np

    import cnnkit
    from cnnkit import _core, ops

    cnnkit.set_num_threads(args.threads)
    isa = _core.active_isa()
    peak = _bench.measure_peak("fma", isa, args.threads)
    n = args.size
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    flops = 2.0 * n * n * n

    limit = blas_limit(args.threads)
    with limit if limit is not None else contextlib.nullcontext():
        t_numpy = _bench.median_seconds(lambda: a @ b, args.repeat)
        t_ours = _bench.median_seconds(lambda: ops.dense(a, b), args.repeat)
    gf_ours, gf_numpy = flops / t_ours / 1e9, flops / t_numpy / 1e9
    ratio = gf_ours / gf_numpy
    pct = 100 * gf_ours / peak if peak else float("nan")
    how = "threadpoolctl" if limit is not None else "environment"
    print(f"cnnkit isa {isa}, numpy {np.__version__} (threads via {how}), threads {args.threads},"
          f" FMA peak {peak} GFLOP/s")
    print(_bench.table(["size", "cnnkit GFLOP/s", "numpy GFLOP/s", "ratio", "% peak"],
                       [[f"{n}^3", f"{gf_ours:.1f}", f"{gf_numpy:.1f}", f"{ratio:.2f}",
                         f"{pct:.0f}%"]]))
    _bench.write_json(args.json, {
        "benchmark": "sgemm", "size": n, "threads": args.threads, "isa": isa,
        "numpy": np.__version__, "fma_peak_gflops": peak, "machine": _bench.machine(),
        "cnnkit_s": t_ours, "numpy_s": t_numpy, "cnnkit_gflops": gf_ours,
        "numpy_gflops": gf_numpy, "ratio": ratio, "pct_peak": pct,
    })


if __name__ == "__main__":
    main()
