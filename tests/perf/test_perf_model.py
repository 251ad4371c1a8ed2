"""Chapter 12's cost model: calibration on lmbench/ttcp only, mixes measured on the model, the prediction.

Oracles: the paper's Tables 3-6 (the calibration must reproduce the rows it uses within 10%), the
model's own runs (a changed workload gives a changed mix), and Figure 3 (compared, never an input).
"""
import ast
import copy
import inspect

import numpy as np
import pytest

from xenlab.perf import costs, paper, predict, workloads


def test_every_calibrated_row_within_10_percent_and_some_rows_are_checks():
    rows = costs.calibration_table()
    used = [r for r in rows if r["calibrates"] and r["platform"] != "L"]
    assert len(used) >= 30
    worst = max(used, key=lambda r: abs(r["error"]))
    assert abs(worst["error"]) <= 0.10, worst
    checks = [r for r in rows if not r["calibrates"] and r["platform"] != "L"]
    assert checks and all(r["why_not"] for r in checks)          # each check says why it is not used
    # native Linux's costs are its lmbench row (L-UP), exactly
    assert all(r["model"] == pytest.approx(r["published"]) for r in rows if r["platform"] == "L"
               and r["table"] != "ttcp")


def test_calibration_reads_no_figure_3(monkeypatch):
    real = paper.data()
    fake = copy.deepcopy(real)
    fake["fig3"]["absolute"] = [[1, 2, 3, 4]] * 6
    fake["fig3"]["bar_heights"] = [[0.5] * 4] * 6
    before = costs.calibrate()
    p_before = predict.predict()
    costs.calibrate.cache_clear()
    monkeypatch.setattr(paper, "data", lambda: fake)
    try:
        assert costs.calibrate() == before
        assert predict.predict() == p_before
    finally:
        costs.calibrate.cache_clear()


def test_xen_mechanisms_are_cheap_and_the_others_are_not():
    u = costs.calibrate()
    assert u["x_hyp"] < 2 and u["x_bounce"] < 2 and u["x_pte"] < 1      # about a microsecond or less
    assert u["v_cr3"] > 10 * u["x_hyp"] and u["v_world"] > 10 * u["x_split"]
    assert 15 < u["u_ptrace"] < 35                                       # UML null call: 24.7 us
    c = costs.op_costs()
    for op in ("syscall", "fault", "switch", "fork", "exec"):
        assert c["L"][op] <= c["X"][op] * 1.01 < c["V"][op]             # the paper's order for these


def test_workload_module_does_not_touch_figure_3():
    src = inspect.getsource(workloads)
    tree = ast.parse(src)
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            imported.add(node.module or "")
            imported.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            imported.update(a.name for a in node.names)
    assert not any("paper" in m or "perf.predict" in m for m in imported), imported
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} | \
            {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
    strings = [n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    for word in ("fig3", "bar_heights", "relative", "absolute", "sosp03"):
        assert word not in names
        assert not any(word in s for s in strings)
    # the frozen file holds mixes and parameters only
    assert set(workloads.frozen()) == set(workloads.BENCHMARKS)


@pytest.mark.parametrize("name", ["OSDB-OLTP", "dbench"])
def test_frozen_mixes_are_what_the_model_measures(name):
    fresh = workloads.measure_mix(name)
    frozen = workloads.frozen()[name]
    assert fresh["mix"] == pytest.approx(frozen["mix"])
    assert fresh["hypercalls"] == pytest.approx(frozen["hypercalls"])
    if name == "dbench":
        assert fresh["mix"]["switch"] == 0 and "multicall" not in fresh["hypercalls"]
        return
    # the switches counted are XenoLinux's multicalls: one mmuext_op and one multicall each
    assert fresh["hypercalls"]["multicall"] == fresh["mix"]["switch"] > 0
    assert fresh["hypercalls"]["mmuext_op"] >= fresh["mix"]["switch"]


def test_changing_a_workload_changes_its_mix():
    base = workloads.measure_mix("OSDB-OLTP", units=2)
    params = dict(workloads.PARAMS["OSDB-OLTP"], block_reads=16, messages=3)
    changed = workloads.measure_mix("OSDB-OLTP", units=2, params=params)
    # each block read is lseek + read (plain calls), each message a send, a switch and a receive
    assert changed["mix"]["nullsys"] - base["mix"]["nullsys"] == pytest.approx(2 * (16 - 6))
    assert changed["mix"]["syscall"] - base["mix"]["syscall"] == pytest.approx(2 * (3 - 8))
    assert changed["mix"]["switch"] - base["mix"]["switch"] == pytest.approx(3 - 8)
    # and the prediction follows the mix
    mixes = dict(workloads.frozen(), **{"OSDB-OLTP": changed})
    assert predict.predict(mixes=mixes)["OSDB-OLTP"] != predict.predict()["OSDB-OLTP"]


def test_web_mix_counts_packets_and_bytes_from_netfront():
    mix = workloads.frozen()["SPEC WEB99"]["mix"]
    p = workloads.PARAMS["SPEC WEB99"]
    segs = -(-p["response_bytes"] // p["segment"])
    assert mix["packet"] == pytest.approx(segs, abs=0.2)
    assert mix["byte"] == pytest.approx(p["response_bytes"], rel=0.01)


def test_prediction_shape_and_native_baseline():
    pred = predict.predict()
    assert list(pred) == list(workloads.BENCHMARKS)
    for scores in pred.values():
        assert scores[0] == pytest.approx(1.0)
        assert all(0 < s <= 1.0 + 1e-9 for s in scores)
    # a costlier hypercall can only make X slower
    slower = predict.predict(dict(costs.calibrate(), x_hyp=10.0))
    assert all(slower[n][1] <= pred[n][1] for n in pred)
    assert all(slower[n][1] < pred[n][1] for n in ("Linux build time", "OSDB-OLTP", "SPEC WEB99"))
    assert all(slower[n][2:] == pred[n][2:] for n in pred)                # V and U do not make hypercalls


def test_measured_agreement_with_figure_3_does_not_regress():
    rows = predict.compare()
    within = sum(abs(r["error"]) <= 0.10 for r in rows)
    assert len(rows) == 18 and within >= 13           # measured: 13 of 18 (the issue asks for 15)
    pairs = predict.ordering_ok()
    assert sum(ok for *_, ok in pairs) >= len(pairs) - 1   # measured: all but OLTP's V-U pair


@pytest.mark.xfail(strict=True, reason="the model gets 13 of 18 bars within 0.10; it misses V on OSDB-IR "
                                       "(0.83 vs 0.47) and OSDB-OLTP (0.55 vs 0.12), U on dbench (0.16 vs "
                                       "0.27) and SPEC WEB99 (0.09 vs 0.33), X on SPEC WEB99 (0.89 vs 0.99, "
                                       "-0.105); not fitted")
def test_issue_target_15_of_18_bars():
    assert sum(abs(r["error"]) <= 0.10 for r in predict.compare()) >= 15


@pytest.mark.xfail(strict=True, reason="OSDB-OLTP: the model puts V (0.55) above U (0.22); the paper has "
                                       "V 0.12 below U 0.18")
def test_issue_target_ordering_everywhere():
    assert all(ok for *_, ok in predict.ordering_ok())


def test_plain_calls_are_null_io_and_the_rest_stat():
    # read/write/lseek/close copy no path or structure: lmbench's "null I/O"; other calls: "stat"
    c = costs.op_costs()
    assert c["L"]["nullsys"] == pytest.approx(0.50) and c["L"]["syscall"] == pytest.approx(1.28)
    assert c["U"]["syscall"] - c["U"]["nullsys"] > 5                   # UML: the path copied in, stat out
    mix = workloads.frozen()["OSDB-IR"]["mix"]
    p = workloads.PARAMS["OSDB-IR"]
    assert mix["nullsys"] == 2 * p["block_reads"] and mix["syscall"] == 2 * p["messages"]


def test_fork_then_exec_costs_one_exec_row():
    # lmbench: "exec proc" = fork + exec + exit + wait, "fork proc" = fork + exit + wait. A process a
    # workload forks and then execs is one "fork" op and one "exec" op: together the exec row, not two forks.
    u = costs.calibrate()
    c = costs.op_costs()
    for p in costs.PLATFORMS:
        whole = costs.model_row(("table3_processes_us", "exec proc"), p, u)
        assert c[p]["fork"] + c[p]["exec"] == pytest.approx(whole)
    assert c["L"]["fork"] + c["L"]["exec"] == pytest.approx(530.0)     # L-UP exec proc, Table 3


def test_file_bytes_are_priced_from_the_10k_rows():
    rows = {(r["row"], r["platform"]): r for r in costs.calibration_table()}
    for p in ("X", "V", "U"):
        r = rows[("10K create", p)]
        assert r["calibrates"] and abs(r["error"]) <= 0.10, r
    assert not rows[("10K delete", "V")]["calibrates"] and rows[("10K delete", "V")]["why_not"]
    c = costs.op_costs()
    # native: (66.0 - 32.1 - 0.45) us for 10240 bytes (L-UP 10K create - 0K create - a null call)
    assert c["L"]["wbyte"] == pytest.approx((66.0 - 32.1 - 0.45) / 10240)
    # the copy and the clearing run natively on X and on U's kernel; VMware translates that kernel work
    for op in ("rbyte", "wbyte", "zero"):
        assert c["X"][op] == pytest.approx(c["L"][op])
        assert c["V"][op] == pytest.approx(c["L"][op] * (1 + costs.calibrate()["v_bt"]))
    assert c["U"]["zero"] == pytest.approx(c["L"]["zero"]) and c["U"]["rbyte"] > c["L"]["rbyte"]


def test_bytes_and_cleared_pages_come_from_the_workload():
    base = workloads.measure_mix("OSDB-IR", units=2)
    params = dict(workloads.PARAMS["OSDB-IR"], read_bytes=10 * 8192, faults=3, anon_faults=50)
    changed = workloads.measure_mix("OSDB-IR", units=2, params=params)
    assert base["mix"]["rbyte"] == 60 * 8192 and changed["mix"]["rbyte"] == 10 * 8192
    # no more pages are cleared than the model's run took faults
    assert changed["mix"]["fault"] == 3 and changed["mix"]["zero"] == 3
    mixes = dict(workloads.frozen(), **{"OSDB-IR": changed})
    assert predict.predict(mixes=mixes)["OSDB-IR"] != predict.predict()["OSDB-IR"]
    # dbench's unit is one SMB request of client.txt: its bytes are the replayed trace's, per request
    # (the writes' ByteCounts plus the expanding writes of opens; reads only inside the file)
    d = workloads.frozen()["dbench"]["mix"]
    assert d["wbyte"] == pytest.approx((94_701_582 + 139_798) / 50_627)
    assert d["rbyte"] == pytest.approx(37_066_988 / 50_627) and d["rbyte"] < 37_950_391 / 50_627


def test_prediction_arrays_and_chart():
    from xenlab.viz.perf_model import prediction_arrays
    a = prediction_arrays()
    assert a["y"].shape == (6, 6) and a["error"].shape == (3, 6)
    assert np.allclose(a["y"][1::2] - a["y"][0::2], a["error"])
    pytest.importorskip("bqplot")
    from xenlab.viz.perf_model import PredictionChart
    chart = PredictionChart(student_score=("OSDB-OLTP", "V", 0.3))
    y0 = np.array(chart.bars.y)
    chart.sliders["u_ptrace"].value = 100.0
    y1 = np.array(chart.bars.y)
    assert not chart.errors
    assert np.all(y1[5] < y0[5]) and np.array_equal(y1[:4], y0[:4])   # only U's model bars move, down
    chart.reset.click()
    assert np.allclose(np.array(chart.bars.y), y0)
    assert "0.10" in chart.summary.value or "0,10" in chart.summary.value


def test_vmware_device_requests_are_counted_access_by_access():
    # Sugerman et al. (USENIX ATC 2001), Table 2: an I/O instruction the VMM emulates without the host
    # costs 0.78-0.91 us on a 733 MHz Pentium III; scaled to SOSP'03's 2.4 GHz that is 0.24-0.28 us.
    # The model prices it as one reflected trap, calibrated on lmbench's null call only: the two agree.
    u = costs.calibrate()
    assert 0.78 * 733 / 2400 * 0.6 < u["v_trap"] < 0.91 * 733 / 2400 * 1.6
    # pcnet32: RAP write + a 10-access interrupt handler + the 8259A; IDE: 24 accesses, one starts the DMA
    assert costs.NIC_VMM_ACCESSES == 15 and costs.IDE_ACCESSES == 24 and costs.IDE_VMM_ACCESSES == 23
    c = costs.op_costs()
    extra = c["V"]["disk"] - c["V"]["packet"]
    assert extra == pytest.approx((costs.IDE_VMM_ACCESSES - costs.NIC_VMM_ACCESSES) * u["v_trap"])
    # after Workstation's optimisations only the access that starts the transfer switches worlds, so a
    # disk request costs about one ttcp packet, far from one world switch per access
    assert c["V"]["disk"] < 1.2 * c["V"]["packet"] < costs.IDE_ACCESSES * u["v_world"] / 10
    # X and U are unchanged by this: their disk request is their packet's path
    for p in ("X", "U"):
        assert c[p]["disk"] == pytest.approx(c[p]["packet"])


def test_dbench_writes_nothing_back_within_one_pass():
    # the premise of dbench's disk_writes = 0: one pass over the trace (50,627 requests) ends before
    # ext3's first commit (every 5 s) and before any buffer is 30 s old, on every platform, at the
    # model's own prices
    mix = workloads.frozen()["dbench"]
    assert mix["mix"]["disk"] == 0 and workloads.PARAMS["dbench"]["disk_writes"] == 0
    t = predict.unit_times(mix, costs.op_costs())
    for p in costs.PLATFORMS:
        assert workloads.PARAMS["dbench"]["requests"] * sum(t[p].values()) / 1e6 < 5.0


def test_web_cgi_share_is_specweb99s():
    # SOSP'03: 30% dynamic, of which 16% POST and 0.5% CGI; SPECweb99: 4.8% POST and 0.15% CGI overall
    assert 0.30 * 0.16 == pytest.approx(0.048) and 0.30 * 0.005 == pytest.approx(0.0015)
    mix = workloads.frozen()["SPEC WEB99"]["mix"]
    assert mix["fork"] == pytest.approx(0.0015) and mix["exec"] == pytest.approx(0.0015)


@pytest.fixture
def english():
    import xenlab.i18n as i18n
    saved = i18n._explicit
    i18n.set_language("en")
    yield
    i18n._explicit = saved


def test_what_if_texts_compute_the_alternatives_the_chapter_discusses(english):
    text = predict.what_if_text()
    u = costs.calibrate()
    c = costs.op_costs()
    # a world switch on each of the 24 IDE accesses: the disk request's native cost plus 24 switches
    assert f"{c['L']['disk'] + 24 * u['v_world']:6.1f} us" in text
    # 180 Mb/s of the measured mean response, a CPU fully busy: the native time per request
    per_request = 1e6 / (180e6 / 8 / workloads.frozen()["SPEC WEB99"]["mix"]["byte"])
    assert 600 < per_request < 700 and f"{per_request:.0f} us per request on L" in text
    # its first line is the prediction itself; with a switch per access V drops, but stays above U
    # (the paper: V 0.12 below U 0.18), so this mechanism does not explain OSDB-OLTP on V
    oltp = predict.predict()["OSDB-OLTP"]
    lines = text.splitlines()
    assert lines[1].endswith(f"V {oltp[2]:.2f}")
    v_alt = float(lines[2].rsplit("V ", 1)[1])
    assert oltp[3] < v_alt < oltp[2] and v_alt > 0.22
    # a switch priced by Table 4's 16-process row (VMware adds 38.1 us there instead of 17.3) leaves V
    # far above the paper's 0.12 too
    v16 = float(lines[-1].split("V ", 1)[1].split()[0])
    assert 0.12 + 0.2 < v16 < oltp[2]


def test_the_text_tables_speak_polish_with_the_papers_names_and_the_same_numbers(english):
    """xenlab/perf's tables in a Polish notebook: labels from the catalogues, no English word left (the
    detector of tests/notebooks), the paper's benchmark and lmbench row names kept, every number as in
    the English table."""
    import re
    import xenlab.i18n as i18n
    from xenlab.i18n.english import english_words
    texts = (paper.fig3_text, costs.calibration_text, predict.units_text, predict.mix_text, predict.compare_text,
             predict.what_if_text)
    en = {f.__name__: f() for f in texts}
    i18n.set_language("pl")
    pl = {f.__name__: f() for f in texts}
    for name in en:
        found = [(line, english_words(line)) for line in pl[name].splitlines() if english_words(line)]
        assert not found, (name, found)
        number = re.compile(r"(?<![\w.])[-+]?\d+(?:\.\d+)?(?:e[-+]\d+)?%?")
        assert sorted(number.findall(pl[name])) == sorted(number.findall(en[name])), name
    assert "OSDB-OLTP" in pl["compare_text"] and "Linux build time" in pl["fig3_text"]
    assert "null call" in pl["calibration_text"] and "page fault" in pl["calibration_text"]
    assert pl["compare_text"].splitlines()[-1].startswith("13 z 18 słupków")
