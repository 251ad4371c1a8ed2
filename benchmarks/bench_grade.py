"""Grading a class: N submissions of one exercise, sandboxed, on J grader processes; wall time and memory.

Run: python benchmarks/bench_grade.py [--n 200] [--jobs 2] [--exercise ex09] [--language en]

The submissions are the exercise's solution with, for every fourth student, one function replaced by its
stub (so both full and partial grades are written). The baseline, measured in the same run, is one
submission graded alone: the figure that matters is the batch's wall time against N x baseline / J
(how well the sandboxes overlap), and against the target of 10 minutes for 200 submissions on 2 cores.
Memory: the largest resident set of the grader and of any child (grader process, sandbox), from
getrusage, which must not grow with N (each sandbox is capped by its rlimit anyway).
"""
from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "grading"))


def main(argv=None) -> int:
    import nbformat
    from grading_helpers import with_function_stubbed, write
    from xenlab.grading import get_exercise
    from xenlab.grading.grader import grade_folder, grade_notebook

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--exercise", default="ex09")
    parser.add_argument("--language", default="en")
    args = parser.parse_args(argv)
    ex = get_exercise(args.exercise)
    solution = next((ROOT / "solutions" / args.language).glob(f"{args.exercise}_*.ipynb"))
    nb = nbformat.read(str(solution), 4)
    with tempfile.TemporaryDirectory(prefix="xenlab-bench-grade-") as tmp:
        subs = Path(tmp) / "submissions"
        for i in range(args.n):
            sub = nb if i % 4 else with_function_stubbed(nb, ex.functions[i % len(ex.functions)])
            write(sub, subs / f"s{i:04d}" / solution.name)
        started = time.perf_counter()
        one = grade_notebook(subs / "s0001" / solution.name, "s0001", lang="en")
        baseline = time.perf_counter() - started
        assert one["points"] == ex.max_points, one
        started = time.perf_counter()
        reports = grade_folder(subs, exercises=[args.exercise], gradebook=Path(tmp) / "book.sqlite", lang="en",
                               jobs=args.jobs)
        wall = time.perf_counter() - started
    full = sum(r["points"] == ex.max_points for r in reports)
    partial = sum(0 < r["points"] < ex.max_points for r in reports)
    problems = sum(bool(r["problems"]) for r in reports)
    mine = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    ideal = args.n * baseline / args.jobs
    print(f"{args.exercise}: {args.n} submissions on {args.jobs} grader processes")
    print(f"  one submission alone (baseline): {baseline:.2f} s")
    print(f"  batch: {wall:.1f} s = {wall / 60:.1f} min ({wall / args.n:.2f} s per submission; "
          f"{wall / ideal:.2f} x N*baseline/jobs); target < 600 s: {'met' if wall < 600 else 'MISSED'}")
    print(f"  grades: {full} full, {partial} partial, {problems} with problems (expected {args.n - (args.n + 3) // 4} full)")
    print(f"  peak resident memory: grader {mine:.0f} MiB, largest child {kids:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
