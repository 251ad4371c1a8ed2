"""Seconds per course notebook, executed top to bottom in a fresh kernel, against a baseline.

Run: python benchmarks/bench_notebooks.py [PATH ...]   (default: notebooks/, solutions/, exercises/)

The baseline is a one-cell notebook (`import xenlab`) in a fresh kernel, measured in the same run, so
the figure that matters is the notebook's time minus (or over) what any notebook pays to start a kernel.
For each notebook it prints the wall time, the ratio to the baseline, and the slowest cell (what a
student waits for at most). The course target: the whole course in about a minute on a 2-core machine,
no cell above a few seconds. Jupyter's folders go to a temporary directory.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _isolate_jupyter(base: Path) -> None:
    for key in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        (base / key).mkdir(exist_ok=True)
        os.environ[key] = str(base / key)
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")


def _seconds(cell) -> float:
    timing = cell.get("metadata", {}).get("execution", {})
    start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not start or not end:
        return 0.0
    parse = lambda s: dt.datetime.fromisoformat(s.replace("Z", "+00:00"))  # noqa: E731
    return (parse(end) - parse(start)).total_seconds()


def run_notebook(nb) -> tuple[float, float, int]:
    """(wall seconds, slowest cell seconds, index of the slowest cell) for one executed notebook."""
    from nbclient import NotebookClient
    env = {**os.environ}
    client = NotebookClient(nb, kernel_name="python3", timeout=120, allow_errors=True, record_timing=True)
    started = time.perf_counter()
    asyncio.run(client.async_execute(env=env))
    wall = time.perf_counter() - started
    cells = [(i, _seconds(c)) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    index, slowest = max(cells, key=lambda x: x[1], default=(0, 0.0))
    return wall, slowest, index


def main(argv=None) -> int:
    import nbformat
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path)
    args = parser.parse_args(argv)
    paths = args.paths or sorted(p for tree in ("notebooks", "solutions", "exercises")
                                 for p in (ROOT / tree).glob("*/*.ipynb"))
    with tempfile.TemporaryDirectory(prefix="xenlab-bench-") as tmp:
        _isolate_jupyter(Path(tmp))
        baseline_nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import xenlab")])
        run_notebook(nbformat.from_dict(baseline_nb))                    # warm-up, not counted
        baseline = min(run_notebook(nbformat.from_dict(baseline_nb))[0] for _ in range(2))
        print(f"baseline (fresh kernel + import xenlab): {baseline:6.2f} s")
        print(f"{'notebook':48} {'seconds':>8} {'x base':>7} {'slowest cell':>14}")
        total, worst = 0.0, 0.0
        for path in paths:
            nb = nbformat.read(str(path), as_version=4)
            os.environ["JPY_SESSION_NAME"] = str(path.resolve())     # the notebook's language
            wall, slowest, index = run_notebook(nb)
            total += wall
            worst = max(worst, slowest)
            name = path.resolve().relative_to(ROOT).as_posix() if path.resolve().is_relative_to(ROOT) else str(path)
            errors = sum(o.get("output_type") == "error" for c in nb.cells for o in c.get("outputs", []))
            note = f"  {errors} cell(s) raised" if errors else ""
            print(f"{name:48} {wall:8.2f} {wall / baseline:7.2f} {slowest:9.2f} (#{index + 1}){note}")
        print(f"{'total (sequential)':48} {total:8.2f} {total / baseline:7.2f} {worst:9.2f} (worst cell)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
