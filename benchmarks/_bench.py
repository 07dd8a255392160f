"""Helpers shared by the benchmark scripts: options, the instruction-set cap, timing, peaks.

The instruction set is capped before torch or numpy is imported, for every library at once:
``--isa avx2`` sets CNNKIT_ISA for cnnkit, ONEDNN_MAX_CPU_ISA / ATEN_CPU_CAPABILITY /
MKL_ENABLE_INSTRUCTIONS for PyTorch and OPENBLAS_CORETYPE for numpy's BLAS, so an AVX-512
machine can stand in for an AVX2 one.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent

# What each --isa value means to the other libraries: PyTorch's oneDNN, ATen and MKL, and the
# OpenBLAS under numpy.
_TORCH_ISA_ENV = {
    "avx2": {"ONEDNN_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2",
             "MKL_ENABLE_INSTRUCTIONS": "AVX2", "OPENBLAS_CORETYPE": "Haswell"},
    "avx512": {},
    "baseline": {"ONEDNN_MAX_CPU_ISA": "SSE41", "ATEN_CPU_CAPABILITY": "default",
                 "MKL_ENABLE_INSTRUCTIONS": "SSE4_2", "OPENBLAS_CORETYPE": "Prescott"},
}

# g++ flags that give benchmarks/peak.cpp the vector width of each kernel path.
_PEAK_FLAGS = {
    "baseline": [],
    "avx2": ["-mavx2", "-mfma"],
    "avx512": ["-mavx512f", "-mfma"],
}


def parser(description: str, default_out: str,
           repeat_help: str = "timed runs per measurement (median)") -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--threads", type=int, default=1, help="threads for both libraries")
    p.add_argument("--isa", choices=sorted(_TORCH_ISA_ENV), default=None,
                   help="cap the instruction set of cnnkit and PyTorch (default: best here)")
    p.add_argument("--repeat", type=int, default=9, help=repeat_help)
    p.add_argument("--json", default=default_out, help="where to write the results")
    p.add_argument("--clock", choices=("wall", "process"), default="wall",
                   help="process: CPU time of this process, steadier on a busy machine "
                        "(with --threads 1 only: it also counts threads spinning at barriers)")
    return p


_CLOCKS = {"wall": time.perf_counter, "process": time.process_time}
_clock = time.perf_counter


def use_clock(name: str) -> None:
    """Selects the clock median_seconds reads (see --clock)."""
    global _clock
    _clock = _CLOCKS[name]


def cap_isa(isa: str | None) -> None:
    """Caps both libraries' instruction set; call before importing torch or cnnkit."""
    if isa is None:
        return
    os.environ["CNNKIT_ISA"] = isa
    for key, value in _TORCH_ISA_ENV[isa].items():
        os.environ[key] = value


def parse_shapes(p: argparse.ArgumentParser, known: dict) -> tuple[argparse.Namespace, list[str]]:
    """Parses the common options plus --shapes, then caps the ISA and picks the clock.

    Runs before torch or cnnkit is imported: the ISA caps are environment variables.
    """
    p.add_argument("--shapes", default=",".join(known), help="comma-separated shape names")
    args = p.parse_args()
    names = [s for s in args.shapes.split(",") if s]
    unknown = [s for s in names if s not in known]
    if unknown:
        p.error(f"unknown shapes {unknown}; choose from {','.join(known)}")
    cap_isa(args.isa)
    use_clock(args.clock)
    return args, names


def set_threads(threads: int) -> str:
    """Gives cnnkit and PyTorch the same thread count; returns cnnkit's active ISA."""
    import torch

    import cnnkit
    from cnnkit import _core

    torch.set_num_threads(threads)
    cnnkit.set_num_threads(threads)
    return _core.active_isa()


def median_seconds(fn: Callable[[], object], repeat: int, warmup: int = 2,
                   warmup_seconds: float = 0.25, budget: float = 20.0) -> float:
    """Median time of fn() over `repeat` runs (fewer if over budget) after warming up.

    The warm-up lasts `warmup` runs and at least `warmup_seconds`: after the other library's
    runs, a first few short calls ran up to 1.5x slower than the steady state.
    """
    start = time.perf_counter()
    runs = 0
    while runs < warmup or time.perf_counter() - start < warmup_seconds:
        fn()
        runs += 1
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < repeat and (len(times) < 3 or time.perf_counter() - start < budget):
        t0 = _clock()
        fn()
        times.append(_clock() - t0)
    return statistics.median(times)


def measure_peak(kind: str, isa: str, threads: int) -> float | None:
    """GFLOP/s ("fma") or GB/s ("triad") from benchmarks/peak.cpp built for `isa`.

    None where g++ is missing or the build fails.
    """
    with tempfile.TemporaryDirectory() as tmp:
        exe = Path(tmp) / "peak"
        build = ["g++", "-O2", "-fopenmp", *_PEAK_FLAGS[isa], str(HERE / "peak.cpp"),
                 "-o", str(exe)]
        try:
            subprocess.run(build, check=True, capture_output=True)
            out = subprocess.run([str(exe), kind, str(threads)], check=True, capture_output=True,
                                 text=True)
        except (OSError, subprocess.CalledProcessError):
            return None
        return float(out.stdout.split()[-1])


def geomean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


def machine() -> dict:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": model or platform.processor(), "cpus": os.cpu_count()}


def write_json(path: str, payload: dict) -> None:
    Path(path).write_text(json.dumps(payload, indent=2) + "\n")
    print(f"results written to {path}")


def table(headers: list[str], rows: list[list[str]]) -> str:
    """A Markdown table, so the output pastes into benchmarks/README.md as is."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
