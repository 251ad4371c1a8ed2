"""Chapter 12's sliders: how long re-computing the predicted Figure 3 takes after one price changes.

A slider move recomputes every operation's cost from the mechanisms' prices and the six benchmarks'
relative scores from the frozen mixes (no model run). Target: under 100 ms per move. The baseline in
the same run is one evaluation of the calibration (the NNLS over the lmbench rows), for scale.

Run: python benchmarks/bench_perf.py [--moves 50]
"""
from __future__ import annotations

import argparse
import time

from xenlab.perf import costs
from xenlab.viz.perf_model import SLIDERS, prediction_arrays

TARGET_MS = 100.0


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--moves", type=int, default=50)
    a = p.parse_args()
    base = costs.calibrate()
    t0 = time.perf_counter()
    costs.calibrate.__wrapped__()
    calib_ms = (time.perf_counter() - t0) * 1e3
    times = []
    for i in range(a.moves):
        name = SLIDERS[i % len(SLIDERS)]
        units = {name: base[name] * (1 + 0.1 * (i % 7))}
        t0 = time.perf_counter()
        prediction_arrays(units)
        times.append((time.perf_counter() - t0) * 1e3)
    times.sort()
    worst, median = times[-1], times[len(times) // 2]
    print(f"calibration (baseline): {calib_ms:.1f} ms")
    print(f"slider move: median {median:.1f} ms, worst {worst:.1f} ms over {a.moves} moves "
          f"({median / calib_ms:.2f} x the calibration); target < {TARGET_MS:.0f} ms: "
          f"{'OK' if worst < TARGET_MS else 'TOO SLOW'}")


if __name__ == "__main__":
    main()
