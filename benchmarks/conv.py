"""cnnkit's 2-D convolution against PyTorch's CPU path, in one process, on seed-model layers.

For every shape and direction (forward, input gradient, kernel gradient) it times cnnkit and
PyTorch at the same thread count (warm-up, then the median of --repeat runs) and prints
GFLOP/s, the ratio cnnkit / PyTorch, cnnkit's share of the measured FMA peak, and the
geometric mean of the ratios. PyTorch runs in NCHW and in channels_last and keeps the faster.

    python benchmarks/conv.py --threads 1 --isa avx2 --shapes a,b,c

FLOPs per direction: 2 * N * OH * OW * OC * C * KH * KW. The kernel gradient includes the bias
gradient on both sides. The peak comes from benchmarks/peak.cpp (independent FMA chains on the
vector width of the ISA in use, all threads).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _bench


@dataclass(frozen=True)
class Shape:
    n: int
    h: int
    w: int
    c: int
    oc: int
    k: int
    stride: int
    padding: str  # "valid" or "same" (TensorFlow's rule)

    def out_size(self, size: int) -> int:
        if self.padding == "same":
            return -(-size // self.stride)
        return (size - self.k) // self.stride + 1

    def flops(self) -> float:
        return 2.0 * self.n * self.out_size(self.h) * self.out_size(self.w) * self.oc * self.c \
            * self.k * self.k

    def torch_padding(self) -> int:
        """Symmetric padding giving PyTorch the same output size (and so the same FLOPs).

        TensorFlow's 'same' puts an odd extra pixel bottom/right; PyTorch pads symmetrically,
        so with an odd total it pads one more pixel on top/left, which moves the windows by
        one pixel but leaves the work unchanged.
        """
        if self.padding == "valid":
            return 0
        total = max((self.out_size(self.h) - 1) * self.stride + self.k - self.h, 0)
        return (total + 1) // 2

    def label(self) -> str:
        return (f"{self.n}x{self.h}x{self.w}x{self.c}->{self.oc} k{self.k} s{self.stride} "
                f"{self.padding}")


# Seed-model layers (MNIST, CIFAR-like and ResNet/VGG-like blocks), named for --shapes.
SHAPES = {
    "a": Shape(128, 28, 28, 1, 32, 3, 1, "valid"),
    "b": Shape(128, 26, 26, 32, 64, 3, 1, "valid"),
    "c": Shape(32, 100, 100, 3, 32, 3, 1, "valid"),
    "d": Shape(32, 98, 98, 32, 32, 3, 1, "valid"),
    "e": Shape(32, 48, 48, 32, 64, 3, 1, "valid"),
    "f": Shape(32, 46, 46, 64, 64, 3, 1, "valid"),
    "g": Shape(8, 56, 56, 64, 64, 3, 1, "same"),
    "h": Shape(8, 28, 28, 128, 128, 3, 1, "same"),
    "i": Shape(8, 14, 14, 256, 256, 3, 1, "same"),
    "j": Shape(8, 56, 56, 64, 256, 1, 1, "valid"),
    "k": Shape(8, 56, 56, 128, 128, 3, 2, "same"),
    "l": Shape(8, 224, 224, 3, 64, 7, 2, "same"),
}
DIRECTIONS = ("forward", "input_grad", "kernel_grad")


def cnnkit_runs(shape: Shape, rng):
    import numpy as np

    from cnnkit import _core, ops

    x = rng.standard_normal((shape.n, shape.h, shape.w, shape.c), dtype=np.float32)
    w = rng.standard_normal((shape.k, shape.k, shape.c, shape.oc), dtype=np.float32) * 0.1
    b = rng.standard_normal(shape.oc, dtype=np.float32)
    oh, ow = shape.out_size(shape.h), shape.out_size(shape.w)
    dy = rng.standard_normal((shape.n, oh, ow, shape.oc), dtype=np.float32)
    strides = (shape.stride, shape.stride)
    return {
        "forward": lambda: ops.conv2d(x, w, b, strides=strides, padding=shape.padding),
        "input_grad": lambda: _core.conv2d_backward_input(x, w, dy, list(strides), shape.padding,
                                                          [1, 1]),
        "kernel_grad": lambda: ops.conv2d_backward(x, w, dy, strides=strides,
                                                   padding=shape.padding, input_grad=False),
    }


def torch_runs(shape: Shape, channels_last: bool, torch):
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    g = torch.Generator().manual_seed(0)
    oh, ow = shape.out_size(shape.h), shape.out_size(shape.w)
    x = torch.randn(shape.n, shape.c, shape.h, shape.w, generator=g).to(memory_format=fmt)
    w = (torch.randn(shape.oc, shape.c, shape.k, shape.k, generator=g) * 0.1).to(
        memory_format=fmt)
    b = torch.randn(shape.oc, generator=g)
    dy = torch.randn(shape.n, shape.oc, oh, ow, generator=g).to(memory_format=fmt)
    stride, pad = [shape.stride] * 2, [shape.torch_padding()] * 2
    conv = torch.nn.functional.conv2d
    backward = torch.ops.aten.convolution_backward

    def grad(mask):
        return lambda: backward(dy, x, w, [shape.oc], stride, pad, [1, 1], False, [0, 0], 1, mask)

    def forward():
        with torch.no_grad():
            return conv(x, w, b, stride, pad)

    return {"forward": forward, "input_grad": grad([True, False, False]),
            "kernel_grad": grad([False, True, True])}


def cells(names: list[str], torch):
    """(name, shape, direction, cnnkit's run, PyTorch's runs by layout) per shape and direction."""
    import numpy as np

    rng = np.random.default_rng(0)
    for name in names:
        shape = SHAPES[name]
        ours = cnnkit_runs(shape, rng)
        theirs = {fmt: torch_runs(shape, fmt == "channels_last", torch)
                  for fmt in ("nchw", "channels_last")}
        for direction in DIRECTIONS:
            yield (name, shape, direction, ours[direction],
                   {fmt: runs[direction] for fmt, runs in theirs.items()})


def main() -> None:
    p = _bench.parser(__doc__.splitlines()[0], "conv_results.json")
    args, names = _bench.parse_shapes(p, SHAPES)
    isa = _bench.set_threads(args.threads)

    import torch

    peak = _bench.measure_peak("fma", isa, args.threads)
    print(f"cnnkit isa {isa}, torch {torch.__version__} ({torch.backends.cpu.get_cpu_capability()})"
          f", threads {args.threads}, FMA peak {peak} GFLOP/s")

    results, rows, ratios = [], [], {d: [] for d in DIRECTIONS}
    for name, shape, direction, ours, theirs in cells(names, torch):
        t_ours = _bench.median_seconds(ours, args.repeat)
        t_fmt = {fmt: _bench.median_seconds(run, args.repeat) for fmt, run in theirs.items()}
        best_fmt = min(t_fmt, key=t_fmt.get)
        gf_ours, gf_torch = shape.flops() / t_ours / 1e9, shape.flops() / t_fmt[best_fmt] / 1e9
        ratio = gf_ours / gf_torch
        ratios[direction].append(ratio)
        pct = 100 * gf_ours / peak if peak else float("nan")
        results.append({"shape": name, "label": shape.label(), "direction": direction,
                        "cnnkit_s": t_ours, "torch_s": t_fmt[best_fmt],
                        "torch_format": best_fmt, "cnnkit_gflops": gf_ours,
                        "torch_gflops": gf_torch, "ratio": ratio, "pct_peak": pct})
        rows.append([name, shape.label(), direction, f"{gf_ours:.1f}", f"{gf_torch:.1f}",
                     best_fmt, f"{ratio:.2f}", f"{pct:.0f}%"])
        print(" | ".join(rows[-1]), flush=True)

    every = [r for d in DIRECTIONS for r in ratios[d]]
    summary = {d: _bench.geomean(ratios[d]) for d in DIRECTIONS}
    summary["all"] = _bench.geomean(every)
    print()
    print(_bench.table(["shape", "layer", "direction", "cnnkit GFLOP/s", "torch GFLOP/s",
                        "torch layout", "ratio", "% peak"], rows))
    print()
    print("geometric mean of cnnkit/torch: " +
          ", ".join(f"{k} {v:.2f}" for k, v in summary.items()))
    _bench.write_json(args.json, {
        "benchmark": "conv2d", "threads": args.threads, "isa": isa,
        "torch": torch.__version__, "torch_capability": torch.backends.cpu.get_cpu_capability(),
        "fma_peak_gflops": peak, "machine": _bench.machine(), "results": results,
        "geomean_ratio": summary,
    })


if __name__ == "__main__":
    main()
