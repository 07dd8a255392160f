"""cnnkit's float32 matrix products against numpy's matmul (its BLAS), at the same threads.

    python benchmarks/gemm.py --threads 1 --isa avx2 --clock process
    python benchmarks/gemm.py --threads 2 --size 1024 --shapes square

Times a square product c = a . b (M = N = K = --size) and the products of the seed model's two
Dense layers on a batch of 128 (9216 -> 128 and 128 -> 10): forward x . w, input gradient
dy . w^T and kernel gradient x^T . dy, each the call cnnkit.ops.dense / dense_backward makes
(the core's matmul, which copies a transposed operand before the product) against numpy's `@`
on the same arrays. Warm-up, then the median of --repeat runs; prints GFLOP/s
(2 * M * N * K per product), the ratio cnnkit / numpy, cnnkit's share of the FMA peak measured
by benchmarks/peak.cpp and the geometric mean of the ratios. numpy's BLAS is limited to
--threads with threadpoolctl when it is installed; otherwise the script reruns itself with
OPENBLAS_NUM_THREADS (and the MKL/OMP equivalents) set before numpy is imported.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _bench

_BLAS_THREAD_VARS = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS")


@dataclass(frozen=True)
class Product:
    """c (M, N) = op(a) . op(b), with a stored (K, M) when trans_a and b stored (N, K) when
    trans_b, as dense_backward passes them."""

    label: str
    m: int
    n: int
    k: int
    trans_a: bool = False
    trans_b: bool = False

    def flops(self) -> float:
        return 2.0 * self.m * self.n * self.k


# The seed model's Dense layers at batch 128: flatten 9216 -> 128, then 128 -> 10.
DENSE = {
    "dense1-fwd": Product("128x9216 . 9216x128", 128, 128, 9216),
    "dense1-dx": Product("128x128 . (9216x128)^T", 128, 9216, 128, trans_b=True),
    "dense1-dw": Product("(128x9216)^T . 128x128", 9216, 128, 128, trans_a=True),
    "dense2-fwd": Product("128x128 . 128x10", 128, 10, 128),
    "dense2-dx": Product("128x10 . (128x10)^T", 128, 128, 10, trans_b=True),
    "dense2-dw": Product("(128x128)^T . 128x10", 128, 10, 128, trans_a=True),
}
SHAPE_NAMES = ["square", *DENSE]


def blas_limit(threads: int):
    """A context limiting numpy's BLAS to `threads`, or None without threadpoolctl."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    return threadpool_limits(limits=threads, user_api="blas")


def time_product(prod: Product, a, b, repeat: int) -> tuple[float, float]:
    """Median seconds of cnnkit's product (the call ops.dense / dense_backward makes) and of
    numpy's `@` on the same stored arrays."""
    from cnnkit import _core, ops

    op_a, op_b = (a.T if prod.trans_a else a), (b.T if prod.trans_b else b)
    if prod.trans_a or prod.trans_b:
        def ours():
            return _core.matmul(a, b, trans_a=prod.trans_a, trans_b=prod.trans_b)
    else:
        def ours():
            return ops.dense(a, b)
    t_numpy = _bench.median_seconds(lambda: op_a @ op_b, repeat)
    return _bench.median_seconds(ours, repeat), t_numpy


def main() -> None:
    p = _bench.parser(__doc__.splitlines()[0], "gemm_results.json")
    p.add_argument("--size", type=int, default=1024, help="M = N = K of the square product")
    known = dict.fromkeys(SHAPE_NAMES)
    args, names = _bench.parse_shapes(p, known)

    try:
        import threadpoolctl  # noqa: F401
    except ImportError:
        if not all(os.environ.get(v) == str(args.threads) for v in _BLAS_THREAD_VARS):
            env = dict(os.environ, **{v: str(args.threads) for v in _BLAS_THREAD_VARS})
            sys.exit(subprocess.call([sys.executable, *sys.argv], env=env))

    import numpy as np

    import cnnkit
    from cnnkit import _core

    cnnkit.set_num_threads(args.threads)
    isa = _core.active_isa()
    peak = _bench.measure_peak("fma", isa, args.threads)
    products = {name: DENSE.get(name) or Product(f"{args.size}^3", *(3 * [args.size]))
                for name in names}
    rng = np.random.default_rng(0)

    rows, results, ratios = [], [], []
    limit = blas_limit(args.threads)
    with limit if limit is not None else contextlib.nullcontext():
        for name, prod in products.items():
            a = rng.standard_normal((prod.k, prod.m) if prod.trans_a else (prod.m, prod.k),
                                    dtype=np.float32)
            b = rng.standard_normal((prod.n, prod.k) if prod.trans_b else (prod.k, prod.n),
                                    dtype=np.float32)
            t_ours, t_numpy = time_product(prod, a, b, args.repeat)
            gf_ours, gf_numpy = prod.flops() / t_ours / 1e9, prod.flops() / t_numpy / 1e9
            ratio = gf_ours / gf_numpy
            pct = 100 * gf_ours / peak if peak else float("nan")
            ratios.append(ratio)
            rows.append([name, prod.label, f"{gf_ours:.1f}", f"{gf_numpy:.1f}", f"{ratio:.2f}",
                         f"{pct:.0f}%"])
            results.append({"shape": name, "m": prod.m, "n": prod.n, "k": prod.k,
                            "trans_a": prod.trans_a, "trans_b": prod.trans_b,
                            "cnnkit_s": t_ours, "numpy_s": t_numpy, "cnnkit_gflops": gf_ours,
                            "numpy_gflops": gf_numpy, "ratio": ratio, "pct_peak": pct})
    how = "threadpoolctl" if limit is not None else "environment"
    print(f"cnnkit isa {isa}, numpy {np.__version__} (threads via {how}), threads {args.threads},"
          f" FMA peak {peak} GFLOP/s")
    print(_bench.table(["shape", "product", "cnnkit GFLOP/s", "numpy GFLOP/s", "ratio",
                        "% peak"], rows))
    print(f"\nGeometric mean of cnnkit/numpy: {_bench.geomean(ratios):.2f}")
    _bench.write_json(args.json, {
        "benchmark": "sgemm", "threads": args.threads, "isa": isa, "numpy": np.__version__,
        "fma_peak_gflops": peak, "machine": _bench.machine(), "results": results,
        "geomean_ratio": _bench.geomean(ratios),
    })


if __name__ == "__main__":
    main()
