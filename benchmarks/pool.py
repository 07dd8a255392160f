"""cnnkit's 2x2 max pooling against PyTorch's CPU path and the measured memory bandwidth.

For each seed-model shape it times the forward and backward pass of both libraries at the same
thread count (warm-up, median of --repeat runs) and prints GB/s, the ratio cnnkit / PyTorch and
cnnkit's share of the STREAM-triad bandwidth measured by benchmarks/peak.cpp.

    python benchmarks/pool.py --threads 1 --isa avx2

Bytes are the op's minimal traffic, counted the same for both libraries (so the GB/s ratio is
the time ratio): forward reads x and writes y; backward reads x and dy and writes dx. PyTorch's
backward reads the int64 indices its forward saved instead of x; that forward is not timed.
PyTorch runs in NCHW and channels_last and keeps the faster.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _bench

# (N, H, W, C) inputs of the 2x2 max-pooling layers of the seed models.
SHAPES = {
    "mnist": (128, 24, 24, 64),
    "mnist-small": (128, 26, 26, 32),
    "cifar": (32, 96, 96, 32),
    "cifar-deep": (32, 44, 44, 64),
    "resnet": (8, 112, 112, 64),
    "vgg": (8, 56, 56, 128),
}
DIRECTIONS = ("forward", "backward")


def cnnkit_runs(shape, rng):
    import numpy as np

    from cnnkit import ops

    n, h, w, c = shape
    x = rng.standard_normal(shape, dtype=np.float32)
    dy = rng.standard_normal((n, h // 2, w // 2, c), dtype=np.float32)
    return {"forward": lambda: ops.max_pool2d(x, (2, 2)),
            "backward": lambda: ops.max_pool2d_backward(x, dy, (2, 2), None, "valid")}


def torch_runs(shape, channels_last: bool, torch):
    n, h, w, c = shape
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, c, h, w, generator=g).to(memory_format=fmt)
    dy = torch.randn(n, c, h // 2, w // 2, generator=g).to(memory_format=fmt)
    _, indices = torch.ops.aten.max_pool2d_with_indices(x, [2, 2], [2, 2])
    backward = torch.ops.aten.max_pool2d_with_indices_backward

    def forward():
        with torch.no_grad():
            return torch.nn.functional.max_pool2d(x, 2)

    return {"forward": forward,
            "backward": lambda: backward(dy, x, [2, 2], [2, 2], [0, 0], [1, 1], False, indices)}


def main() -> None:
    p = _bench.parser(__doc__.splitlines()[0], "pool_results.json")
    args, names = _bench.parse_shapes(p, SHAPES)
    isa = _bench.set_threads(args.threads)

    import numpy as np
    import torch

    bandwidth = _bench.measure_peak("triad", isa, args.threads)
    print(f"cnnkit isa {isa}, torch {torch.__version__}, threads {args.threads}, "
          f"STREAM triad {bandwidth} GB/s")
    rng = np.random.default_rng(0)

    results, rows, ratios = [], [], []
    for name in names:
        shape = SHAPES[name]
        n, h, w, c = shape
        x_bytes, y_bytes = 4 * n * h * w * c, 4 * n * (h // 2) * (w // 2) * c
        nbytes = {"forward": x_bytes + y_bytes, "backward": 2 * x_bytes + y_bytes}
        ours = cnnkit_runs(shape, rng)
        theirs = {fmt: torch_runs(shape, fmt == "channels_last", torch)
                  for fmt in ("nchw", "channels_last")}
        for direction in DIRECTIONS:
            t_ours = _bench.median_seconds(ours[direction], args.repeat)
            t_fmt = {fmt: _bench.median_seconds(runs[direction], args.repeat)
                     for fmt, runs in theirs.items()}
            best_fmt = min(t_fmt, key=t_fmt.get)
            gb_ours = nbytes[direction] / t_ours / 1e9
            gb_torch = nbytes[direction] / t_fmt[best_fmt] / 1e9
            ratio = gb_ours / gb_torch
            ratios.append(ratio)
            pct = 100 * gb_ours / bandwidth if bandwidth else float("nan")
            results.append({"shape": name, "nhwc": shape, "direction": direction,
                            "cnnkit_s": t_ours, "torch_s": t_fmt[best_fmt],
                            "torch_format": best_fmt, "cnnkit_gbps": gb_ours,
                            "torch_gbps": gb_torch, "ratio": ratio, "pct_bandwidth": pct})
            rows.append([name, "x".join(map(str, shape)), direction, f"{gb_ours:.1f}",
                         f"{gb_torch:.1f}", best_fmt, f"{ratio:.2f}", f"{pct:.0f}%"])
            print(" | ".join(rows[-1]), flush=True)

    print()
    print(_bench.table(["shape", "NHWC", "direction", "cnnkit GB/s", "torch GB/s",
                        "torch layout", "ratio", "% triad"], rows))
    print()
    print(f"geometric mean of cnnkit/torch: {_bench.geomean(ratios):.2f}")
    _bench.write_json(args.json, {
        "benchmark": "max_pool2d 2x2", "threads": args.threads, "isa": isa,
        "torch": torch.__version__, "triad_gbps": bandwidth, "machine": _bench.machine(),
        "results": results, "geomean_ratio": _bench.geomean(ratios),
    })


if __name__ == "__main__":
    main()
