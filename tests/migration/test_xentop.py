"""xentop's batch output: the 3.0.4 summary lines, column widths, STATE order, CPU(%) from two samples."""
import re

import pytest

import xenlab
from xenlab.toolstack.xentop import FIELDS, cpu_pct, header_line, state_string, xentop
from xenlab.xen.public import dom0_ops as D

MS = 1_000_000


@pytest.fixture(scope="module")
def frame():
    m = xenlab.Machine(seed=0, cpus=2, memory_mb=256)
    xenlab.xm(m, "create name=web memory=64 workload='cpu-bound'")
    xenlab.xm(m, "create name=db memory=32")
    xenlab.xm(m, "create name=paused memory=16 workload='cpu-bound'")
    xenlab.xm(m, "pause paused")
    return m, xentop(m, delay_ns=1000 * MS)


def test_summary_lines(frame):
    m, res = frame
    lines = res.text.splitlines()
    assert re.fullmatch(r"xentop - \d\d:\d\d:\d\d   Xen 3\.0\.\S+", lines[0])
    assert lines[1] == "4 domains: 2 running, 1 blocked, 1 paused, 0 crashed, 0 dying, 0 shutdown "
    total, free = 256 * 1024, m.frame_table.free_frames * 4
    assert lines[2] == f"Mem: {total}k total, {total - free}k used, {free}k free    CPUs: 2 @ 2000MHz"


def test_header_and_column_widths(frame):
    _, res = frame
    lines = res.text.splitlines()
    assert lines[3] == header_line()
    assert lines[3].startswith("      NAME  STATE   CPU(sec) CPU(%)     MEM(k) MEM(%)  MAXMEM(k) MAXMEM(%) VCPUS NETS")
    width = sum(w for _, w in FIELDS) + len(FIELDS) - 1
    assert all(len(line) == width for line in lines[3:])
    web = next(line for line in lines if line.startswith("       web "))
    assert web[:10] == "       web" and web[11:17] == "-----r"
    assert web[29:35] == " 100.0"                        # one whole CPU for the whole second
    assert "----p-" in next(line for line in lines if "paused" in line[:10])     # d s b c p r
    assert "--b---" in next(line for line in lines if line.startswith("        db"))


def test_state_order_is_xentops_not_xms():
    assert state_string(D.DOMFLAGS_RUNNING) == "-----r"
    assert state_string(D.DOMFLAGS_BLOCKED | D.DOMFLAGS_PAUSED) == "--b-p-"
    assert state_string(D.DOMFLAGS_DYING) == "d-----"
    assert state_string(D.DOMFLAGS_SHUTDOWN | (3 << D.DOMFLAGS_SHUTDOWNSHIFT)) == "---c--"
    assert state_string(D.DOMFLAGS_SHUTDOWN) == "-s----"


def test_cpu_pct_formula():
    assert cpu_pct(0, 1_000_000_000, 1_000_000) == 100.0        # 1 s of CPU in 1 s
    assert cpu_pct(0, 500_000_000, 2_000_000) == 25.0
    assert cpu_pct(0, 3_000_000_000, 1_500_000) == 200.0        # two vcpus busy
    assert cpu_pct(5, 5, 0) == 0.0


def test_xm_top_and_magic_path():
    m = xenlab.Machine(seed=0)
    res = xenlab.xm(m, "top -d 0.5 -i 2 -v")
    assert res.text.count("xentop - ") == 2 and "VCPUs(sec):" in res.text
    assert m.now == 1000 * MS
    with pytest.raises(xenlab.XmError):
        xenlab.xm(m, "top -d x")
