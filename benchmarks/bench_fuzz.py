"""Benchmark: the isolation fuzzer's hypercalls per wall second, to plan the CI budget.

Runs the state machine of tests/security/test_fuzz_isolation.py (derandomized, the same examples each
time) twice per round: as in CI, with the independent raw-bytes checker after every step, and as the
baseline, the same machine with the checker switched off (hypothesis, the bursts of hypercalls,
lifecycle and device traffic only). The ratio is what checking every step costs; ops/s with the
checker is what sizes XENLAB_FUZZ_OPS for a soak run. Medians of interleaved rounds.
Run: python benchmarks/bench_fuzz.py [examples]
"""
from __future__ import annotations

import pathlib
import statistics
import sys
import time

from hypothesis import HealthCheck, settings
from hypothesis.stateful import invariant, run_state_machine_as_test

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "tests" / "security"))
import test_fuzz_isolation as T  # noqa: E402


class Unchecked(T.Fuzz):
    """The same rules and step counting, no checker."""

    @invariant()
    def isolated(self):
        if hasattr(self, "m"):
            self.steps += 1


def one_run(cls, examples: int) -> tuple[int, float]:
    T.Fuzz.ops = 0
    t0 = time.perf_counter()
    run_state_machine_as_test(cls, settings=settings(
        max_examples=examples, stateful_step_count=200, deadline=None, derandomize=True, database=None,
        suppress_health_check=list(HealthCheck)))
    return T.Fuzz.ops, time.perf_counter() - t0


def main() -> None:
    examples = int(sys.argv[1]) if len(sys.argv) > 1 else 8
    one_run(T.Fuzz, 1)                                     # warm-up (imports, first machine)
    checked, bare = [], []
    for _ in range(3):
        n, dt = one_run(T.Fuzz, examples)
        checked.append(n / dt)
        n2, dt2 = one_run(Unchecked, examples)
        bare.append(n2 / dt2)
    c, b = statistics.median(checked), statistics.median(bare)
    print(f"{examples} derandomized examples per run, about {n:,} hypercalls each")
    print(f"fuzzer with the checker after every step: {c:,.0f} hypercalls per wall second")
    print(f"baseline, same machine without the checker: {b:,.0f} hypercalls per wall second")
    print(f"checker cost: {b / c:.2f}x; 10,000 operations take about {10_000 / c:.1f} s")


if __name__ == "__main__":
    main()
