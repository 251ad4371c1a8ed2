"""Relative performance (chapter 12): the SOSP'03 numbers, and the same work measured on the model.

The published data (Barham et al., "Xen and the Art of Virtualization", SOSP'03, Figure 3 and
Tables 3-5; Clark et al., NSDI'05 for the migration figures) ship as ``xenlab/data/sosp03.json``:

    fig3()                 the six benchmarks for native Linux (L), XenoLinux (X), VMware (V), UML (U)
    relative(fig3())       score / Linux's score (for the build *time*, Linux's time / the time)
    fig3_text()            Figure 3 as a table
    lmbench("table3_processes_us")   an lmbench table: {config: {column: us}}

``measure(workload)`` runs one workload as a paravirtualised and as a hardware-assisted (HVM) guest
on the model and counts what crossed into Xen: hypercalls, traps bounced through Xen, VM exits, and
the simulated cycles they cost (xen/costs.py). That is the model's answer to "why is X close to L
but V far from it": a PV kernel batches and asks; an unmodified kernel is caught and emulated.

Simplifications:
- The model measures crossings and their modelled cost, not benchmark scores: there are no caches,
  disks or networks with the paper's timings behind these counts.
"""
from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

MS = 1_000_000


@lru_cache(maxsize=1)
def data() -> dict:
    """The whole shipped data file (SOSP'03 Figure 3, lmbench, ttcp, NSDI'05 migration figures)."""
    return json.loads(resources.files("xenlab").joinpath("data/sosp03.json").read_text(encoding="utf-8"))


def fig3() -> dict:
    return data()["fig3"]


def relative(fig: dict | None = None) -> dict[str, list[float]]:
    """{benchmark: [L, X, V, U] relative to Linux}; higher is better everywhere."""
    fig = fig or fig3()
    out = {}
    for name, absolute, higher in zip(fig["benchmarks"], fig["absolute"], fig["higher_is_better"]):
        base = absolute[0]
        out[name] = [(v / base) if higher else (base / v) for v in absolute]
    return out


def fig3_text() -> str:
    fig = fig3()
    rel = relative(fig)
    from xenlab.i18n import t
    lines = [f"{t('perf.text.benchmark'):<18} {t('perf.text.unit'):>6} " + " ".join(f"{c:>7}" for c in fig["configs"])
             + "   " + " ".join(f"{c + '/L':>6}" for c in fig["configs"][1:])]
    for name, unit, absolute in zip(fig["benchmarks"], fig["units"], fig["absolute"]):
        unit = t("perf.text.score") if unit == "score" else unit          # s and tup/s are units
        lines.append(f"{name:<18} {unit:>6} " + " ".join(f"{v:>7}" for v in absolute) + "   "
                     + " ".join(f"{r:>6.2f}" for r in rel[name][1:]))
    return "\n".join(lines)


def lmbench(table: str) -> dict[str, dict[str, float]]:
    t = data()["lmbench"][table]
    cols = t["columns"]
    return {cfg: dict(zip(cols, vals)) for cfg, vals in t.items() if cfg != "columns" and not cfg.startswith("_")}


# -- the model's own measurement -------------------------------------------------------------------------
def kernel_build_like(iterations: int = 200) -> list:
    """A little of everything a kernel build does: work, system calls, page faults, process switches."""
    return [("compute", 1 * MS), ("syscall", 3), ("syscall", 5), ("fault", 14, 0x0804_8000),
            ("priv", "write_cr3"), ("loop", 0, iterations)]


def _count(d) -> dict:
    out = {"hypercalls": sum(d.hypercall_counts.values()), "cpu_ms": d.cpu_time / 1e6}
    try:
        from xenlab.xen.costs import overhead_summary
        s = overhead_summary(d)
        out.update({"traps": s.get("trap", 0), "emulations": s.get("emulate", 0), "vmexits": s.get("vmexit", 0),
                    "world_switches": s.get("world_switch", 0), "cycles": s.get("cycles", 0)})
    except ImportError:                  # no cost model: count hypercalls only
        pass
    return out


def measure(workload=None, run_ns: int = 400 * MS, seed: int = 0) -> dict[str, dict]:
    """Run ``workload`` as a PV and as an HVM guest (fresh machines, same seed); count the crossings."""
    import xenlab
    from xenlab.toolstack.domain_config import DomainConfig
    workload = workload if workload is not None else kernel_build_like()
    results = {}
    for kind in ("pv", "hvm"):
        m = xenlab.Machine(seed=seed, hvm=True)
        d = m.create_domain(DomainConfig(name=f"guest-{kind}", memory=32, kind=kind, workload=workload))
        m.run_for(run_ns)
        results[kind] = _count(d)
    return results


def measure_text(results: dict) -> str:
    keys = [k for k in ("hypercalls", "traps", "emulations", "vmexits", "world_switches", "cycles", "cpu_ms")
            if k in results["pv"]]
    lines = [f"{'':<16}{'PV (XenLinux)':>16}{'HVM (unmodified)':>18}"]
    for k in keys:
        pv, hvm = results["pv"][k], results["hvm"][k]
        fmt = "{:>16.1f}{:>18.1f}" if isinstance(pv, float) else "{:>16d}{:>18d}"
        lines.append(f"{k:<16}" + fmt.format(pv, hvm))
    return "\n".join(lines)
