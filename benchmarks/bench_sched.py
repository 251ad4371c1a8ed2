"""Scheduling decisions per wall second, and xenlab's EDF (SEDF) against the SimSo simulator.

Run: python benchmarks/bench_sched.py [--seconds 10] [--no-simso]

1. Credit, 16 domains on 4 pCPUs (12 CPU-bound, 4 interactive), ``--seconds`` simulated: scheduling
   decisions (schedule() calls, tracing off) per wall second. Baseline, in the same run: the same 16
   domains on 4 pCPUs under Round Robin, the simplest policy (a FIFO per pCPU, no accounting). The
   ratio of the two rates is what Credit's accounting, priorities and load balancing cost per decision;
   the wall times for the same simulated time are printed too (the policies make different numbers of
   decisions).
2. The same 10 periodic tasks (period 10*i ms, execution 0.8 ms, i = 1..10; utilisation 0.23) for
   ``--seconds`` simulated on one CPU: xenlab's SEDF with one domain per task (slice = execution time,
   no extra time) against SimSo's EDF (PyPI ``simso``, installed by this script into its own venv under
   $XDG_CACHE_HOME or ~/.cache, xenlab-bench/simso-venv). Both times exclude start-up (machine boot,
   imports); the ratio is SimSo's wall time over xenlab's. If SimSo cannot be installed or run, the
   script says why and reports xenlab's figure only.
Target from issue 6: xenlab at least 20 times faster. Timings on a shared 2-core machine vary by +-30%.
The xenlab side is a whole machine: each job is a guest that computes, arms its one-shot timer with
set_timer_op, blocks with SCHEDOP_block and is woken by a VIRQ_TIMER event written into its
shared_info page, so one "decision" costs far more work than in a scheduler-only simulator.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

MS = 1_000_000
TASKS = [(10 * i, 0.8) for i in range(1, 11)]            # (period ms, wcet ms)


def timed_run(machine, seconds: float) -> dict:
    """Run with tracing off; decisions are schedule() calls, counted in machine.stats."""
    before = machine.stats.get("sched_decisions", 0)
    start = time.perf_counter()
    machine.run_for(int(seconds * 1e9))
    wall = time.perf_counter() - start
    decisions = machine.stats.get("sched_decisions", 0) - before
    return {"decisions": decisions, "wall_s": wall, "per_s": decisions / wall}


def bench_mix(seconds: float, sched: str = "credit") -> dict:
    """16 domains (12 CPU-bound, 4 interactive) on 4 pCPUs under ``sched`` (weights matter to Credit only)."""
    import xenlab
    from xenlab.guest.workload import cpu_bound, interactive
    m = xenlab.Machine(cpus=4, sched=sched, memory_mb=512, seed=1)
    for i in range(16):
        work = interactive(2 * MS, 15 * MS) if i % 4 == 3 else cpu_bound()
        m.create_domain(xenlab.DomainConfig(name=f"d{i}", memory=16, workload=work, weight=256 + 64 * (i % 3)))
    return timed_run(m, seconds)


def bench_credit(seconds: float) -> dict:
    return bench_mix(seconds, "credit")


def bench_xenlab_edf(seconds: float) -> dict:
    import xenlab
    from xenlab.guest.workload import periodic
    m = xenlab.Machine(cpus=1, sched="sedf", memory_mb=512, seed=1)
    for i, (period, wcet) in enumerate(TASKS):
        params = {"period": int(period * MS), "slice": int(wcet * MS), "extratime": 0}
        m.create_domain(xenlab.DomainConfig(name=f"T{i}", memory=16, sched_params=params,
                                            workload=periodic(int(period * MS), int(wcet * MS))))
    return timed_run(m, seconds)


SIMSO_SCRIPT = textwrap.dedent("""
    import contextlib, io, json, sys, time
    from simso.configuration import Configuration
    from simso.core import Model
    seconds, tasks = float(sys.argv[1]), json.loads(sys.argv[2])
    c = Configuration()
    c.duration = int(seconds * 1000 * c.cycles_per_ms)
    c.add_processor(name="CPU 1", identifier=1)
    for i, (period, wcet) in enumerate(tasks):
        c.add_task(name=f"T{i}", identifier=i + 1, period=period, activation_date=0, wcet=wcet, deadline=period)
    c.scheduler_info.clas = "simso.schedulers.EDF"
    c.check_all()
    model = Model(c)
    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        model.run_model()
    wall = time.perf_counter() - start
    print(json.dumps({"wall_s": wall, "decisions": model.results.scheduler.schedule_count,
                      "jobs": sum(len(t.jobs) for t in model.results.tasks.values())}))
""")


def simso_python() -> tuple[str | None, str]:
    """The venv's python with simso installed (creating it if needed), or (None, why not)."""
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "xenlab-bench" / "simso-venv"
    py = cache / "bin" / "python"
    try:
        if not py.exists():
            subprocess.run([sys.executable, "-m", "venv", str(cache)], check=True, capture_output=True, timeout=300)
        ok = subprocess.run([str(py), "-c", "import simso"], capture_output=True, timeout=120)
        if ok.returncode != 0:
            inst = subprocess.run([str(py), "-m", "pip", "install", "-q", "simso"], capture_output=True, text=True,
                                  timeout=600)
            if inst.returncode != 0:
                return None, "pip install simso failed: " + (inst.stderr.strip().splitlines() or ["?"])[-1]
        return str(py), ""
    except (OSError, subprocess.SubprocessError) as exc:
        return None, f"could not make a venv for simso: {exc}"


def bench_simso(seconds: float) -> tuple[dict | None, str]:
    py, why = simso_python()
    if py is None:
        return None, why
    run = subprocess.run([py, "-c", SIMSO_SCRIPT, str(seconds), json.dumps(TASKS)], capture_output=True, text=True,
                         timeout=1800)
    if run.returncode != 0:
        return None, "simso failed: " + (run.stderr.strip().splitlines() or ["?"])[-1]
    return json.loads(run.stdout.strip().splitlines()[-1]), ""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0, help="simulated seconds (default 10)")
    ap.add_argument("--no-simso", action="store_true", help="skip the SimSo comparison")
    args = ap.parse_args(argv)

    c = bench_credit(args.seconds)
    print(f"Credit,      16 domains on 4 pCPUs, {args.seconds:g} s simulated: {c['decisions']} decisions in "
          f"{c['wall_s']:.3f} s wall = {c['per_s']:,.0f} decisions per wall second")
    rr = bench_mix(args.seconds, "rrobin")
    print(f"Round Robin, 16 domains on 4 pCPUs, {args.seconds:g} s simulated: {rr['decisions']} decisions in "
          f"{rr['wall_s']:.3f} s wall = {rr['per_s']:,.0f} decisions per wall second (baseline, same run)")
    print(f"Credit against the Round Robin baseline: {c['per_s'] / rr['per_s']:.2f}x the decisions per wall "
          f"second ({rr['per_s'] / c['per_s']:.2f}x the wall time per decision); "
          f"{c['wall_s'] / rr['wall_s']:.2f}x the wall time for the same simulated time")
    x = bench_xenlab_edf(args.seconds)
    print(f"xenlab SEDF, 10 periodic tasks, {args.seconds:g} s simulated: {x['decisions']} decisions in "
          f"{x['wall_s']:.3f} s wall ({x['decisions'] / x['wall_s']:,.0f}/s)")
    if args.no_simso:
        print("SimSo comparison skipped (--no-simso): the 20x target was not measured")
        return 0
    s, why = bench_simso(args.seconds)
    if s is None:
        print(f"SimSo comparison not run: {why}; the 20x target was not measured")
        return 0
    print(f"SimSo EDF,   10 periodic tasks, {args.seconds:g} s simulated: {s['decisions']} decisions in "
          f"{s['wall_s']:.3f} s wall ({s['decisions'] / s['wall_s']:,.0f}/s), {s['jobs']} jobs")
    ratio = s["wall_s"] / x["wall_s"]
    print(f"ratio (SimSo wall / xenlab wall, same simulated time): {ratio:.2f}x "
          f"(target >= 20x: {'met' if ratio >= 20 else 'NOT met'})")
    if s["decisions"] and x["decisions"]:
        per = (s["wall_s"] / s["decisions"]) / (x["wall_s"] / x["decisions"])
        print(f"per decision (SimSo wall per decision / xenlab's): {per:.2f}x; the two count decisions "
              f"differently (SimSo: scheduler calls; xenlab: schedule() on a pCPU)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
