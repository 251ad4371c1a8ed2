"""Figure 3 predicted: relative score = (time of a unit of work on L) / (time on the platform).

time_P = compute + sum over ops of mix[op] * cost_P(op) + ticks * cost_P(irq)

- ``mix`` is the operation mix measured on the model (workloads.frozen());
- ``cost_P(op)`` comes from the mechanisms calibrated on lmbench and ttcp (costs.op_costs());
- ``compute`` (user-mode work, the same on every platform: VMware and UML run user code directly) is
  given (SPEC INT) or follows from the cited share of time in the OS on native Linux:
  compute = kernel time on L * (1 - os_share) / os_share;
- ticks: the timer interrupt at HZ = 100 over the unit's native time. A disk request's or a packet's
  completion interrupt is not counted again: ttcp's per-packet time, which calibrated them, includes it.

Figure 3 enters only ``compare()``, after the prediction is made. ``what_if_text()`` computes three
alternatives the chapter discusses (a world switch on every IDE access; SPEC WEB99 with the native time
per request implied by the paper's "up to 180 Mb/s"; OSDB-OLTP with Table 4's 16-process switch); none
feeds the prediction.

Simplifications:
- CPU-bound: device time is not added (the paper's benchmarks ran from the page cache or kept the CPU
  busy); the platforms differ in CPU time only.
"""
from __future__ import annotations

from xenlab.i18n import t
from xenlab.perf.costs import PLATFORMS, op_costs
from xenlab.perf.workloads import BENCHMARKS, HZ, frozen

COST_OPS = ("syscall", "nullsys", "signal", "fault", "switch", "fork", "exec", "create", "delete", "disk", "packet", "byte",
            "rbyte", "wbyte", "zero")


def unit_times(mix_entry: dict, costs: dict) -> dict[str, dict[str, float]]:
    """{platform: {op: us per unit}} including "compute" and "irq"."""
    mix = mix_entry["mix"]
    kernel_l = sum(mix.get(op, 0) * costs["L"][op] for op in COST_OPS)
    if mix_entry.get("compute_us") is not None:
        compute = float(mix_entry["compute_us"])
    else:
        share = mix_entry["os_share"]
        compute = kernel_l * (1 - share) / share
    native_s = (compute + kernel_l) / 1e6
    irqs = HZ * native_s
    out = {}
    for p in PLATFORMS:
        parts = {"compute": compute}
        parts.update({op: mix.get(op, 0) * costs[p][op] for op in COST_OPS})
        parts["irq"] = irqs * costs[p]["irq"]
        out[p] = parts
    return out


def predict(units: dict | None = None, mixes: dict | None = None) -> dict[str, list[float]]:
    """{benchmark: [L, X, V, U] relative to Linux} from the mixes and the (possibly changed) unit prices."""
    costs = op_costs(units)
    mixes = mixes or frozen()
    out = {}
    for name in BENCHMARKS:
        t = unit_times(mixes[name], costs)
        total = {p: sum(t[p].values()) for p in PLATFORMS}
        out[name] = [total["L"] / total[p] for p in PLATFORMS]
    return out


def dominant(name: str, platform: str, units: dict | None = None, mixes: dict | None = None) -> tuple[str, float]:
    """The operation that adds most time on ``platform`` over native, and its share of the extra time."""
    costs = op_costs(units)
    t = unit_times((mixes or frozen())[name], costs)
    extra = {op: t[platform][op] - t["L"][op] for op in t["L"] if op != "compute"}
    total = sum(extra.values())
    op = max(extra, key=extra.get)
    return op, (extra[op] / total if total > 0 else 0.0)


def compare(pred: dict | None = None) -> list[dict]:
    """Each non-native bar: predicted, published (Figure 3, exact ratio), error, the dominant operation."""
    from xenlab.perf.paper import relative
    pred = pred or predict()
    pub = relative()
    rows = []
    for name in BENCHMARKS:
        for i, p in enumerate(PLATFORMS):
            if p == "L":
                continue
            op, share = dominant(name, p)
            rows.append({"benchmark": name, "platform": p, "predicted": pred[name][i], "published": pub[name][i],
                         "error": pred[name][i] - pub[name][i], "dominant": op, "dominant_share": share})
    return rows


def ordering_ok(pred: dict | None = None, margin: float = 0.05) -> list[tuple[str, str, str, bool]]:
    """For every pair of X, V, U whose published scores differ by more than ``margin``: same order?"""
    from xenlab.perf.paper import relative
    pred = pred or predict()
    pub = relative()
    out = []
    for name in BENCHMARKS:
        for a, b in (("X", "V"), ("X", "U"), ("V", "U")):
            ia, ib = PLATFORMS.index(a), PLATFORMS.index(b)
            if abs(pub[name][ia] - pub[name][ib]) > margin:
                out.append((name, a, b, (pub[name][ia] > pub[name][ib]) == (pred[name][ia] > pred[name][ib])))
    return out


def compare_text(rows: list[dict] | None = None, threshold: float = 0.10) -> str:
    rows = rows or compare()
    col = {c: t("perf.model.col." + c) for c in ("benchmark", "paper", "model", "error", "dominant")}
    lines = [f"{col['benchmark']:<18}{'':>2}{col['paper']:>7}{col['model']:>7}{col['error']:>7}   {col['dominant']}"]
    for r in rows:
        miss = "  " + t("perf.text.miss") if abs(r["error"]) > threshold else ""
        lines.append(f"{r['benchmark']:<18}{r['platform']:>2}{r['published']:>7.2f}{r['predicted']:>7.2f}"
                     f"{r['error']:>+7.2f}   {t('perf.op.' + r['dominant'])} ({r['dominant_share']:.0%}){miss}")
    ok = sum(abs(r["error"]) <= threshold for r in rows)
    lines.append(t("perf.text.within", ok=ok, n=len(rows), th=f"{threshold:.2f}"))
    return "\n".join(lines)


def mix_text(mixes: dict | None = None) -> str:
    """The frozen operation mixes, per unit of work, as measured on the model (bytes in KB)."""
    mixes = mixes or frozen()
    ops = ("syscall", "nullsys", "fault", "zero", "switch", "fork", "exec", "create", "delete", "disk", "packet",
           "byte", "rbyte", "wbyte")
    short = {op: t("perf.short." + op) for op in ops}          # at most 7 characters in either language
    kb = {"byte", "rbyte", "wbyte"}
    lines = [f"{t('perf.text.benchmark'):<17}" + "".join(f"{short[o]:>8}" for o in ops) + f"{'OS %':>6}"]
    for name in BENCHMARKS:
        e = mixes[name]
        share = "-" if e.get("os_share") is None else f"{100 * e['os_share']:.0f}"
        vals = [e["mix"].get(o, 0) / (1024 if o in kb else 1) for o in ops]
        lines.append(f"{name:<17}" + "".join(f"{v:>8.4g}" for v in vals) + f"{share:>6}")
    return "\n".join(lines)


def units_text(units: dict | None = None) -> str:
    """The calibrated price of every mechanism, grouped by platform."""
    from xenlab.perf.costs import MECHANISMS, calibrate
    units = units or calibrate()
    return "\n".join(f"{plat}  {name:<10}{units[name]:>10.4g} us  {t('perf.mechdesc.' + name)}"
                     for name, (plat, _what) in sorted(MECHANISMS.items(), key=lambda kv: "XVU".index(kv[1][0])))


# Traffic of SPEC WEB99, from the paper's §4.1 text ("up to 180 Mb/s of TCP traffic"; read as native
# Linux's run). Used only by what_if_text() to show how much native work the web mix lacks; never an
# input of the prediction.
WEB_NATIVE_MBPS = 180.0


def what_if_text(units: dict | None = None, mixes: dict | None = None) -> str:
    """Three alternatives the chapter discusses, computed (not part of the prediction).

    1. VMware's emulated disk with a world switch on every one of a request's IDE accesses (as
       Workstation 2.0 handled the Lance's data register), instead of only on the one starting the DMA.
    2. SPEC WEB99 with the native CPU time per request implied by the paper's 180 Mb/s (a CPU fully
       busy), the missing time taken as user-mode work.
    3. OSDB-OLTP with a process switch priced by lmbench's 16-process row (Table 4, 16p/16K: what each
       platform adds over native Linux there) instead of the 2-process row the model uses.
    """
    from xenlab.perf import costs as C
    units = units or C.calibrate()
    mixes = mixes or frozen()
    table = op_costs(units)
    alt = {p: dict(c) for p, c in table.items()}
    alt["V"]["disk"] = table["L"]["disk"] + C.IDE_ACCESSES * units["v_world"]
    lines = [t("perf.whatif.disk_head")]
    for name, costs in (("one_switch", table), ("all_switch", alt)):
        parts = unit_times(mixes["OSDB-OLTP"], costs)
        score = sum(parts["L"].values()) / sum(parts["V"].values())
        lines.append(t("perf.whatif.disk_line", name=t("perf.whatif." + name), disk=costs["V"]["disk"], score=score))
    web = mixes["SPEC WEB99"]
    per_request_us = 1e6 / (WEB_NATIVE_MBPS * 1e6 / 8 / _web_bytes(web))
    parts = unit_times(web, table)
    totals = {p: sum(parts[p].values()) for p in PLATFORMS}
    missing = max(per_request_us - totals["L"], 0.0)
    lines.append(t("perf.whatif.web", kb=_web_bytes(web) / 1000, us=per_request_us, mix=totals["L"]))
    lines.append(t("perf.whatif.web_user") + "  ".join(
        f"{p} {(totals['L'] + missing) / (totals[p] + missing):.2f}" for p in PLATFORMS[1:]))
    row16 = ("table4_ctxsw_us", "16p/16K")
    sw = {p: dict(c) for p, c in table.items()}
    for p in PLATFORMS[1:]:
        sw[p]["switch"] = table["L"]["switch"] + C.published_row(row16, p) - C.published_row(row16, "L")
    parts = unit_times(mixes["OSDB-OLTP"], sw)
    lines.append(t("perf.whatif.oltp16") + "  ".join(
        f"{p} {sum(parts['L'].values()) / sum(parts[p].values()):.2f}" for p in PLATFORMS[1:]))
    return "\n".join(lines)


def _web_bytes(entry: dict) -> float:
    """Bytes sent per web request: the payload netfront counted in the measured mix."""
    return float(entry["mix"]["byte"])
