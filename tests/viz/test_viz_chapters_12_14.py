"""Pure arrays of the xentop, relative-performance and migration views; widgets built headless."""
import numpy as np
import pytest

import xenlab
from xenlab.perf import fig3, relative
from xenlab.toolstack.migrate import migrate
from xenlab.toolstack.xentop import xentop
from xenlab.viz.migration_view import bar_outlines, migration_arrays
from xenlab.viz.perf_chart import perf_arrays
from xenlab.viz.xentop_view import xentop_arrays
from xenlab.toolstack.domain_config import DomainConfig

MS = 1_000_000


def test_perf_arrays_match_the_papers_bars():
    a = perf_arrays()
    assert a["configs"] == ["L", "X", "V", "U"] and a["y"].shape == (4, 6)
    assert np.allclose(a["y"][0], 1.0)                                  # Linux is the baseline
    bars = np.array(fig3()["bar_heights"]).T
    diff = np.abs(np.round(a["y"], 2) - bars)
    assert diff.max() <= 0.011                                           # U/OLTP: 0.1785 drawn as 0.17
    assert a["y"][1, 1] == pytest.approx(263 / 271)                      # build time: L_time / X_time
    assert relative()["SPEC WEB99"][2] == pytest.approx(150 / 518)


def test_xentop_arrays_from_rows():
    # two CPUs: xentop runs in dom0 on one, web keeps the other (on one CPU, web would be runnable, not r)
    m = xenlab.Machine(seed=0, cpus=2)
    xenlab.xm(m, "create name=web memory=32 workload='cpu-bound'")
    res = xentop(m, delay_ns=200 * MS)
    a = xentop_arrays(res.rows)
    assert a["names"] == ["Domain-0", "web"]
    from xenlab.viz.theme import STATE_COLOURS
    assert a["cpu_pct"][1] == pytest.approx(100.0, abs=0.5) and a["colors"][1] == STATE_COLOURS["r"]


def test_migration_arrays_and_outlines():
    src, dst = xenlab.Machine(seed=1, memory_mb=96), xenlab.Machine(seed=2, memory_mb=96)
    d = src.create_domain(DomainConfig(name="g", memory=16,
                                       workload=[("dirty", 6000, 800), ("compute", 5 * MS), ("loop", 1, None)]))
    src.run_for(20 * MS)
    r = migrate(src, d, dst)
    a = migration_arrays(r)
    n = len(r.iterations)
    assert a["start_s"].shape == (n,) and np.all(a["end_s"] >= a["start_s"])
    assert np.all(np.diff(a["start_s"]) >= 0) and a["last"][-1] and not a["last"][:-1].any()
    assert a["sent_pages"].sum() == r.total_sent and a["downtime_ms"] == r.downtime_ns / 1e6
    xs, ys = bar_outlines(a)
    assert xs.shape == ys.shape == (n, 5) and np.all(ys[:, 2] == a["rate_mbit"])


def test_widgets_build_without_a_browser():
    pytest.importorskip("bqplot")
    from xenlab.viz.migration_view import MigrationView
    from xenlab.viz.perf_chart import PerfChart
    from xenlab.viz.xentop_view import XentopView
    m = xenlab.Machine(seed=0)
    view = XentopView(m, delay_ns=100 * MS)
    before = m.now
    view.button.click()
    assert m.now == before + 100 * MS and not view.errors and "xentop - " in view.text.value
    chart = PerfChart()
    assert len(chart.bars.y) == 4
    src, dst = xenlab.Machine(seed=1, memory_mb=96), xenlab.Machine(seed=2, memory_mb=96)
    d = src.create_domain(DomainConfig(name="g", memory=16, workload="idle"))
    mv = MigrationView(migrate(src, d, dst))
    assert len(mv.bars.x) == 3
