"""Thread scaling of cnnkit's 2-D convolution next to PyTorch's: 1 thread against N, one process.

For every shape, direction and library the two thread counts alternate round by round: each
round times a few calls at one thread, then a few at --threads (after a warm-up at each switch),
and its speed-up is time at one thread / time at N. A stretch of load from elsewhere on a shared
machine then slows both halves of a round's ratio, where timing `conv.py --threads 1` and
`conv.py --threads 2` one after the other would put it into one of them only.

Between rounds the script times a control the same way: a float32 product small enough to stay
in each core's L2 cache (cnnkit's dense layer, 96N x 256 by 256 x 256, the same work per thread at
any N), which shares nothing between the threads but the cores themselves. Where the host gives
the process less than N cores' worth of time (other tenants of a shared machine, on the same cores
or on their SMT siblings), the control's speed-up drops below N with the convolutions'. A round
is clean when the controls on both sides of it reached --clean times N; a cell's speed-up is the
median over its clean rounds, and rounds go on until --repeat of them were clean or three times
that many ran. PyTorch's speed-up is that of its faster layout at N threads (NCHW or
channels_last).
"""

from __future__ import annotations

import statistics
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _bench
from conv import SHAPES, cells

CALLS_PER_ROUND = 3
CONTROL_CALLS = 15  # the control takes about 0.3 ms on one thread for every thread it stands for
MIN_CLEAN = 3  # fewer clean rounds than this and a cell falls back on the median of all its rounds


def round_seconds(fn: Callable[[], object], threads: int, calls: int = CALLS_PER_ROUND) -> float:
    """Median time of `calls` calls of fn at `threads` threads, after warming up at that count."""
    _bench.set_threads(threads)
    return _bench.median_seconds(fn, calls, warmup=2, warmup_seconds=0.05)


def control_product(threads: int) -> Callable[[], object]:
    """The control: a product that stays in each core's L2 (see the module docstring)."""
    import numpy as np

    from cnnkit import ops

    rng = np.random.default_rng(1)
    a = rng.standard_normal((96 * threads, 256), dtype=np.float32)
    b = rng.standard_normal((256, 256), dtype=np.float32)
    return lambda: ops.dense(a, b)


@dataclass
class Scaling:
    """Per round: the measured function's t(1) / t(N), t(N) in seconds, and the lower of the
    control's speed-ups on either side of the round."""
    ratios: list[float] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    controls: list[float] = field(default_factory=list)

    def clean(self, threshold: float) -> list[float]:
        """The ratios of the rounds whose controls both reached `threshold`."""
        return [r for r, c in zip(self.ratios, self.controls) if c >= threshold]

    def speedup(self, threshold: float) -> float:
        """Median over the clean rounds, or over all rounds where too few were clean."""
        clean = self.clean(threshold)
        return statistics.median(clean if len(clean) >= MIN_CLEAN else self.ratios)


class Control:
    """The control's speed-up, measured between the rounds of every cell."""

    def __init__(self, threads: int):
        self.threads = threads
        self.product = control_product(threads)
        self.last = self.measure()

    def measure(self) -> float:
        self.last = (round_seconds(self.product, 1, CONTROL_CALLS)
                     / round_seconds(self.product, self.threads, CONTROL_CALLS))
        return self.last


def scaling(fn: Callable[[], object], control: Control, wanted: int, threshold: float) -> Scaling:
    """Rounds of fn at 1 and N threads, each followed by the control's, until `wanted` were clean
    (controls at `threshold` or above on both sides) or three times as many ran."""
    result = Scaling()
    while len(result.clean(threshold)) < wanted and len(result.ratios) < 3 * wanted:
        before = control.last
        one, many = round_seconds(fn, 1), round_seconds(fn, control.threads)
        result.ratios.append(one / many)
        result.times.append(many)
        result.controls.append(min(before, control.measure()))
    return result


def main() -> None:
    p = _bench.parser(__doc__.splitlines()[0], "scaling_results.json",
                      repeat_help="clean rounds wanted per cell (at most three times as many run)")
    p.set_defaults(threads=2)
    p.add_argument("--clean", type=float, default=0.9,
                   help="a round is clean when the control's speed-up on both sides of it is at "
                        "least this fraction of --threads")
    args, names = _bench.parse_shapes(p, SHAPES)
    if args.threads < 2:
        p.error("--threads: scaling needs 2 or more threads")
    if args.clock != "wall":
        p.error("--clock: scaling needs the wall clock (process time adds up every thread)")
    if not 0 < args.clean <= 1:
        p.error(f"--clean: a fraction in (0, 1], got {args.clean}")
    isa = _bench.set_threads(args.threads)

    import torch

    n, threshold = args.threads, args.clean * args.threads
    print(f"cnnkit isa {isa}, torch {torch.__version__} "
          f"({torch.backends.cpu.get_cpu_capability()}), 1 thread against {n}, "
          f"{args.repeat} clean rounds wanted (control at {threshold:.2f} or above)")
    control = Control(n)
    results, rows = [], []
    for name, shape, direction, ours, theirs in cells(names, torch):
        s_ours = scaling(ours, control, args.repeat, threshold)
        s_fmt = {fmt: scaling(run, control, args.repeat, threshold) for fmt, run in theirs.items()}
        best_fmt = min(s_fmt, key=lambda fmt: statistics.median(s_fmt[fmt].times))
        s_torch = s_fmt[best_fmt]
        controls = s_ours.controls + s_torch.controls
        clean = {"cnnkit": len(s_ours.clean(threshold)), "torch": len(s_torch.clean(threshold))}
        r = {"shape": name, "label": shape.label(), "direction": direction,
             "cnnkit_speedup": s_ours.speedup(threshold),
             "torch_speedup": s_torch.speedup(threshold), "torch_format": best_fmt,
             "control_speedup": statistics.median(controls), "clean_rounds": clean,
             "rounds": {"cnnkit": s_ours.ratios, "torch": s_torch.ratios,
                        "cnnkit_control": s_ours.controls, "torch_control": s_torch.controls}}
        results.append(r)
        rows.append([name, shape.label(), direction, f"{r['cnnkit_speedup']:.2f}",
                     f"{r['torch_speedup']:.2f}", best_fmt, f"{r['control_speedup']:.2f}",
                     f"{clean['cnnkit']}/{len(s_ours.ratios)}, "
                     f"{clean['torch']}/{len(s_torch.ratios)}"])
        print(" | ".join(rows[-1]), flush=True)

    keys = ("cnnkit_speedup", "torch_speedup", "control_speedup")
    summary = {key: _bench.geomean([r[key] for r in results]) for key in keys}
    judged = [r for r in results if r["clean_rounds"]["cnnkit"] >= MIN_CLEAN]
    lowest = min(results, key=lambda r: r["cnnkit_speedup"])
    print()
    print(_bench.table(["shape", "layer", "direction", f"cnnkit 1->{n}", f"torch 1->{n}",
                        "torch layout", f"control 1->{n}", "clean rounds (cnnkit, torch)"], rows))
    print()
    print(f"geometric means of the speed-ups: cnnkit {summary['cnnkit_speedup']:.2f}, "
          f"torch {summary['torch_speedup']:.2f}, control {summary['control_speedup']:.2f}; "
          f"cnnkit's lowest {lowest['cnnkit_speedup']:.2f} ({lowest['shape']} "
          f"{lowest['direction']}); {len(judged)} of {len(results)} cells had {MIN_CLEAN} or more "
          f"clean rounds (the others: median of all rounds)")
    _bench.write_json(args.json, {
        "benchmark": "conv2d thread scaling", "threads": n, "isa": isa,
        "clean_rounds_wanted": args.repeat, "clean_threshold": threshold,
        "torch": torch.__version__, "machine": _bench.machine(),
        "results": results, "geomean": summary,
    })


if __name__ == "__main__":
    main()
