"""The scheduler lab: pure array functions on a simulation, and the widget driven without a browser."""

import numpy as np
import pytest

from xenlab.viz import schedlab as L

MS = 1_000_000


@pytest.fixture(scope="module")
def report():
    return L.simulate("credit", L.default_domains(), 500 * MS)


def test_gantt_segments_cover_each_domains_cpu_time(report):
    g = L.gantt_arrays(report)
    for name, domid in report.domids.items():
        x = g[domid]["x"].reshape(-1, 3)
        assert np.isnan(x[:, 2]).all() and (x[:, 1] >= x[:, 0]).all()
        ran_ms = (x[:, 1] - x[:, 0]).sum()
        assert ran_ms == pytest.approx(report.achieved[domid] * report.duration / MS, rel=0.01)
        assert set(np.unique(g[domid]["y"][~np.isnan(g[domid]["y"])])) <= {0}


def test_gantt_window_clips(report):
    t0 = report.intervals[0].start
    g = L.gantt_arrays(report, t0, t0 + 50 * MS)
    for arr in g.values():
        x = arr["x"][~np.isnan(arr["x"])]
        assert x.size == 0 or (x.min() >= t0 / MS and x.max() <= (t0 + 50 * MS) / MS)


def test_share_and_latency_arrays(report):
    sh = L.share_arrays(report)
    assert sh["names"] == ["cpu", "web", "video"]
    assert sh["achieved"].sum() <= 1.0 + 1e-9 and (sh["promised"] > 0).all()
    h = L.latency_hist(report)
    web = report.domids["web"]
    assert h[web]["counts"].sum() == len(report.latencies[web])
    assert len(h["edges_ms"]) == len(h[web]["counts"]) + 1


@pytest.mark.parametrize("sched,key", [("credit", "pri"), ("bvt", "evt"), ("atropos", "deadline"),
                                       ("sedf", "deadline")])
def test_step_mode_shows_the_deciding_values(sched, key):
    r = L.simulate(sched, L.default_domains(), 200 * MS)
    rows = L.decision_rows(r, 0, 50)
    assert len(rows) >= 5 and [x["n"] for x in rows] == list(range(len(rows)))
    assert any(key in x["values"] for x in rows if x["domain"] != "idle")
    assert "cpu0" in L.decision_text(rows[:3])


def test_params_from_sliders():
    assert L.sched_params("sedf", {"period_ms": 20, "slice_ms": 30, "extratime": 0, "weight": 0}) == {
        "period": 20 * MS, "slice": 20 * MS, "extratime": 0, "weight": 0}
    assert L.sched_params("atropos", {"period_ms": 20, "slice_ms": 5, "xtratime": 1})["latency"] == 20 * MS
    cfgs = L.domain_configs("credit", [L.LabDomain("a", params={"credit": {"weight": 512, "cap": 30}})])
    assert (cfgs[0].weight, cfgs[0].cap) == (512, 30)


def test_widget_slider_resimulates_and_steps():
    pytest.importorskip("ipywidgets")
    pytest.importorskip("bqplot")
    lab = L.SchedLab(duration_ns=300 * MS)
    before = lab.report.achieved[lab.report.domids["cpu"]]
    lab.set_param("cpu", "weight", 1024)
    after = lab.report.achieved[lab.report.domids["cpu"]]
    assert after > before and lab.error_box.value == ""
    lab.sliders[("web", "cap")].value = 5                    # a slider moved as in the browser
    assert lab.report is not None and lab.error_box.value == ""
    lab.sched.value = "sedf"
    assert lab.report.sched == "sedf" and ("video", "period_ms") in lab.sliders
    lab.step()
    assert "cpu0" in lab.steps.value and lab.cursor > 0
    assert lab.bars.y.shape == (2, 4)


def test_bvt_warpu_slider_reaches_the_scheduler():
    assert "warpu" in [p[0] for p in L.PARAM_SPECS["bvt"]]
    spec = L.LabDomain("web", "interactive", params={"bvt": {"warpback": 1, "warpvalue": 100000, "warpl": 50,
                                                             "warpu": 300}})
    cfg = L.domain_configs("bvt", [spec])[0]
    assert cfg.sched_params["warpu"] == 300 and cfg.sched_params["warpl"] == 50
    from xenlab.machine import Machine
    m = Machine(sched="bvt", seed=0)
    d = m.create_domain(cfg)
    assert m.scheduler.get_params(d)["warpu"] == 300


def test_io_workload_choice_and_promised_capped_at_demand():
    from xenlab.guest.workload import compute_fraction
    specs = L.default_domains()
    specs[1].workload = "io"
    prog = specs[1].program()
    assert "no disk" in prog.name                              # the lab's fallback, named as such
    r = L.simulate("credit", specs, 300 * MS)
    web = r.domids["web"]
    assert r.promised_kind == "demand" and r.demand[web] == pytest.approx(compute_fraction(prog))
    assert r.promised[web] == pytest.approx(r.demand[web])
    assert sum(r.promised.values()) == pytest.approx(1.0)     # what web leaves goes to the others
    assert sorted(r.latencies[web])[len(r.latencies[web]) // 2] == 0


def test_widget_workload_menu_and_warpu_slider():
    pytest.importorskip("ipywidgets")
    pytest.importorskip("bqplot")
    lab = L.SchedLab(duration_ns=200 * MS)
    assert set(lab.workloads) == {"cpu", "batch", "web", "video"}
    lab.workloads["web"].value = "io"                        # the menu moved as in the browser
    assert lab.specs[2].workload == "io" and lab.error_box.value == ""
    assert lab.report.demand[lab.report.domids["web"]] < 0.3
    lab.sched.value = "bvt"
    assert ("web", "warpu") in lab.sliders and lab.workloads["web"].value == "io"
    lab.set_param("web", "warpu", 200)
    assert lab.error_box.value == "" and lab.report.sched == "bvt"


def test_credit_weight_moves_the_default_lab_shares():
    # two CPU-bound domains compete in the lab's default scenario: weight 512 against 256 must give
    # "cpu" about twice "batch"'s share (Credit divides by weight among domains that want more)
    specs = L.lab_domains()
    even = L.simulate("credit", specs, 1000 * MS)
    specs[0].params["credit"] = {"weight": 512}
    uneven = L.simulate("credit", specs, 1000 * MS)
    cpu, batch = even.domids["cpu"], even.domids["batch"]
    assert abs(even.achieved[cpu] - even.achieved[batch]) < 0.05
    assert uneven.achieved[cpu] > 1.6 * uneven.achieved[batch]


def test_reasons_are_translated_and_unknown_reasons_kept(monkeypatch):
    import xenlab.i18n as i18n
    from xenlab.i18n import set_language
    monkeypatch.setattr(i18n, "_explicit", i18n._explicit)      # restored after the test
    if True:
        set_language("pl")
        assert L.reason_text("UNDER, head of cpu0's run queue") == "UNDER, pierwsza w kolejce cpu0"
        assert L.reason_text("extra time (penalty queue)") == "czas dodatkowy (kolejka kar)"
        assert L.reason_text("lowest evt (500 < d1v0's 1000)") == "najmniejszy evt (500 < 1000 u d1v0)"
        assert L.reason_text("most credit on the run queue; credit <= 0: reset").endswith("odnowienie")
        assert L.reason_text("a student's reason") == "a student's reason"
        set_language("en")
        assert L.reason_text("head of run queue (2 waiting)") == "head of run queue (2 waiting)"


def test_every_model_reason_has_a_translation():
    # every reason the built-in schedulers gave in the lab's scenario matches a pattern
    import re
    for sched in ("credit", "bvt", "atropos", "sedf", "rrobin", "credit2", "rtds"):
        r = L.simulate(sched, L.lab_domains(), 200 * MS)
        for d in r.decisions:
            assert any(re.match(p, d[4]) for p, _ in L.REASONS), (sched, d[4])


def test_histogram_counts_are_floats_for_bqplot():
    pytest.importorskip("bqplot")
    lab = L.SchedLab(duration_ns=300 * MS)
    assert lab.hist.y.dtype.kind == "f" and lab.hist.y.sum() > 0 and lab.hy.max >= lab.hist.y.max()
