"""Thread scaling of cnnkit's 2-D convolution next to PyTorch's: 1 thread against N, one process.

For every shape, direction and library the two thread counts alternate round by round: each
round times a few calls at one thread, then a few at --threads (after a warm-up at each switch),
and the speed-up is the median over the rounds of time at one thread / time at N. A stretch of
load from elsewhere on a shared machine then slows both halves of a round's ratio, where timing
`conv.py --threads 1` and `conv.py --threads 2` one after the other would put it into one of
them only. PyTorch's speed-up is that of its faster layout at N threads (NCHW or channels_last).

Each round also times a control the same way: a float32 product small enough to stay in each
core's L2 cache (cnnkit's dense layer, 192x256 by 256x256), which shares nothing between the
threads but the cores themselves. Where the host gives the process less than N cores' worth of
time (other tenants of a shared machine, on the same cores or their SMT siblings), the control's
speed-up drops below N with the convolutions'; its median over a cell's rounds is printed with it.
"""

from __future__ import annotations

import statistics
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _bench
from conv import SHAPES, cells

CALLS_PER_ROUND = 3
CONTROL_CALLS = 15  # the control takes about 0.3 ms on one thread


def round_seconds(fn: Callable[[], object], threads: int, calls: int = CALLS_PER_ROUND) -> float:
    """Median time of `calls` calls of fn at `threads` threads, after warming up at that count."""
    _bench.set_threads(threads)
    return _bench.median_seconds(fn, calls, warmup=2, warmup_seconds=0.05)


def control_product() -> Callable[[], object]:
    """The control: a product that stays in each core's L2 (see the module docstring)."""
    import numpy as np

    from cnnkit import ops

    rng = np.random.default_rng(1)
    a = rng.standard_normal((192, 256), dtype=np.float32)
    b = rng.standard_normal((256, 256), dtype=np.float32)
    return lambda: ops.dense(a, b)


@dataclass
class Scaling:
    """Per round: the measured function's and the control's t(1) / t(N), and t(N) in seconds."""
    ratios: list[float]
    controls: list[float]
    times: list[float]


def scaling(fn: Callable[[], object], control: Callable[[], object], threads: int,
            rounds: int) -> Scaling:
    """`rounds` rounds of fn at 1 and `threads` threads, each followed by the control's round."""
    result = Scaling([], [], [])
    for _ in range(rounds):
        one, many = round_seconds(fn, 1), round_seconds(fn, threads)
        result.ratios.append(one / many)
        result.times.append(many)
        result.controls.append(round_seconds(control, 1, CONTROL_CALLS)
                               / round_seconds(control, threads, CONTROL_CALLS))
    return result


def main() -> None:
    p = _bench.parser(__doc__.splitlines()[0], "scaling_results.json")
    p.set_defaults(threads=2)
    args, names = _bench.parse_shapes(p, SHAPES)
    if args.threads < 2:
        p.error("--threads: scaling needs 2 or more threads")
    if args.clock != "wall":
        p.error("--clock: scaling needs the wall clock (process time adds up every thread)")
    isa = _bench.set_threads(args.threads)

    import torch

    n = args.threads
    print(f"cnnkit isa {isa}, torch {torch.__version__} "
          f"({torch.backends.cpu.get_cpu_capability()}), 1 thread against {n}, "
          f"{args.repeat} rounds")
    control = control_product()
    results, rows = [], []
    for name, shape, direction, ours, theirs in cells(names, torch):
        s_ours = scaling(ours, control, n, args.repeat)
        s_fmt = {fmt: scaling(run, control, n, args.repeat) for fmt, run in theirs.items()}
        best_fmt = min(s_fmt, key=lambda fmt: statistics.median(s_fmt[fmt].times))
        s_torch = s_fmt[best_fmt]
        controls = s_ours.controls + s_torch.controls
        r = {"shape": name, "label": shape.label(), "direction": direction,
             "cnnkit_speedup": statistics.median(s_ours.ratios),
             "torch_speedup": statistics.median(s_torch.ratios), "torch_format": best_fmt,
             "control_speedup": statistics.median(controls),
             "rounds": {"cnnkit": s_ours.ratios, "torch": s_torch.ratios, "control": controls}}
        results.append(r)
        rows.append([name, shape.label(), direction, f"{r['cnnkit_speedup']:.2f}",
                     f"{r['torch_speedup']:.2f}", best_fmt, f"{r['control_speedup']:.2f}"])
        print(" | ".join(rows[-1]), flush=True)

    keys = ("cnnkit_speedup", "torch_speedup", "control_speedup")
    summary = {key: _bench.geomean([r[key] for r in results]) for key in keys}
    lowest = min(results, key=lambda r: r["cnnkit_speedup"])
    print()
    print(_bench.table(["shape", "layer", "direction", f"cnnkit 1->{n}", f"torch 1->{n}",
                        "torch layout", f"control 1->{n}"], rows))
    print()
    print(f"geometric means of the speed-ups: cnnkit {summary['cnnkit_speedup']:.2f}, "
          f"torch {summary['torch_speedup']:.2f}, control {summary['control_speedup']:.2f}; "
          f"cnnkit's lowest {lowest['cnnkit_speedup']:.2f} ({lowest['shape']} "
          f"{lowest['direction']})")
    _bench.write_json(args.json, {
        "benchmark": "conv2d thread scaling", "threads": n, "isa": isa, "rounds": args.repeat,
        "torch": torch.__version__, "machine": _bench.machine(),
        "results": results, "geomean": summary,
    })


if __name__ == "__main__":
    main()
