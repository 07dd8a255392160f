"""cnnkit.image.correlate2d against scipy and OpenCV on one large image, in one process.

Times a 'same'-size correlation of a float32 image (default 2048x2048) with 3x3 and 7x7 kernels,
the edge mirrored with the edge pixel repeated (cnnkit boundary "symm", scipy.signal "symm",
scipy.ndimage mode "reflect", OpenCV BORDER_REFLECT: the same numbers, checked before timing).
Prints megapixels per second and the ratio cnnkit / OpenCV; after a warm-up each of the
--repeat rounds runs every library once, in turn, so a busy machine slows them alike, and the
median per library is kept. cnnkit and OpenCV use --threads threads; scipy is single-threaded.

    pip install -e .[bench]            # opencv-python-headless
    python benchmarks/filter2d.py --threads 2
"""

from __future__ import annotations

import functools
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _bench

KERNEL_SIZES = (3, 7)


def interleaved_medians(runs: dict[str, Callable[[], object]], repeat: int,
                        clock: Callable[[], float], budget: float = 20.0) -> dict[str, float]:
    """Median seconds of each run on `clock`, timed round-robin (fewer rounds if over budget)."""
    for run in runs.values():
        run()
    times: dict[str, list[float]] = {name: [] for name in runs}
    start = time.perf_counter()
    for round_index in range(repeat):
        if round_index >= 3 and time.perf_counter() - start > budget:
            break
        for name, run in runs.items():
            t0 = clock()
            run()
            times[name].append(clock() - t0)
    return {name: statistics.median(values) for name, values in times.items()}


def main() -> None:
    p = _bench.parser(__doc__.splitlines()[0], "filter2d_results.json")
    p.set_defaults(threads=2)
    p.add_argument("--size", type=int, default=2048, help="image height and width")
    args = p.parse_args()
    _bench.cap_isa(args.isa)

    import cv2
    import numpy as np
    import scipy
    import scipy.ndimage
    import scipy.signal

    import cnnkit
    from cnnkit import _core, image

    clock = time.process_time if args.clock == "process" else time.perf_counter
    cnnkit.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    isa = _core.active_isa()
    print(f"cnnkit isa {isa}, OpenCV {cv2.__version__}, scipy {scipy.__version__}, "
          f"threads {args.threads}, image {args.size}x{args.size} float32")
    rng = np.random.default_rng(0)
    x = rng.random((args.size, args.size), dtype=np.float32)

    libraries = {
        "cnnkit": lambda k: image.correlate2d(x, k, mode="same", boundary="symm"),
        "opencv": lambda k: cv2.filter2D(x, -1, k, borderType=cv2.BORDER_REFLECT),
        "scipy.ndimage": lambda k: scipy.ndimage.correlate(x, k, mode="reflect"),
        "scipy.signal": lambda k: scipy.signal.correlate2d(x, k, mode="same", boundary="symm"),
    }
    megapixels = args.size * args.size / 1e6
    results, rows = [], []
    for size in KERNEL_SIZES:
        kernel = rng.standard_normal((size, size)).astype(np.float32)
        reference = libraries["cnnkit"](kernel)
        for name, run in libraries.items():
            np.testing.assert_allclose(run(kernel), reference, rtol=0, atol=1e-4,
                                       err_msg=f"{name} disagrees with cnnkit")
        seconds = interleaved_medians(
            {name: functools.partial(run, kernel) for name, run in libraries.items()}, args.repeat,
            clock,
        )
        speed = {name: megapixels / s for name, s in seconds.items()}
        results += [{"kernel": size, "library": name, "seconds": seconds[name],
                     "megapixels_per_s": speed[name]} for name in libraries]
        rows.append([f"{size}x{size}", *(f"{speed[name]:.0f}" for name in libraries),
                     f"{speed['cnnkit'] / speed['opencv']:.2f}"])
        print(" | ".join(rows[-1]), flush=True)

    print()
    print(_bench.table(["kernel", *(f"{name} MP/s" for name in libraries), "cnnkit / OpenCV"],
                       rows))
    _bench.write_json(args.json, {
        "benchmark": "filter2d", "threads": args.threads, "isa": isa, "size": args.size,
        "opencv": cv2.__version__, "scipy": scipy.__version__, "machine": _bench.machine(),
        "results": results,
    })


if __name__ == "__main__":
    main()
