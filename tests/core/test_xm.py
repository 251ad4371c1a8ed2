"""xm: Xen 3.0's list format, config-file errors and lifecycle commands."""
import pytest

import xenlab
from xenlab.toolstack.xm import state_string
from xenlab.xen.public import dom0_ops as D

# Oracle: the header and one row exactly as Xen 3.0.0's xm prints them (format "%-32s %3d %8d %5d %5s %7.1f").
HEADER = "Name                              ID Mem(MiB) VCPUs State  Time(s)"


def test_list_layout_is_xen_30s():
    m = xenlab.Machine(seed=0, dom0_mem_mb=64)
    xenlab.xm(m, "create name=web memory=32 vcpus=2")
    lines = xenlab.xm(m, "list").text.splitlines()
    assert lines[0] == HEADER
    assert lines[1] == "Domain-0                           0       64     1 r-----     0.0"
    assert lines[2].startswith("web                                1       32     2 ")
    # Numbers end under the end of their header words.
    for word in ("ID", "Mem(MiB)", "VCPUs", "Time(s)"):
        end = HEADER.index(word) + len(word)
        assert all(line[end - 1] != " " for line in lines[1:]), word


def test_state_letters_order_rbpscd():
    assert state_string(D.DOMFLAGS_RUNNING) == "r-----"
    assert state_string(D.DOMFLAGS_BLOCKED) == "-b----"
    assert state_string(D.DOMFLAGS_PAUSED | D.DOMFLAGS_BLOCKED) == "-bp---"
    assert state_string(D.DOMFLAGS_SHUTDOWN) == "---s--"
    assert state_string(D.DOMFLAGS_SHUTDOWN | (3 << D.DOMFLAGS_SHUTDOWNSHIFT)) == "----c-"
    assert state_string(D.DOMFLAGS_DYING) == "-----d"


def test_paused_and_blocked_states_in_list():
    m = xenlab.Machine(seed=0)
    xenlab.xm(m, "create name=idle memory=16")
    m.run_for(5_000_000)
    assert xenlab.xm(m, "list idle").rows[0]["state"] == "-b----"
    xenlab.xm(m, "pause idle")
    assert xenlab.xm(m, "list idle").rows[0]["state"] == "-bp---"
    xenlab.xm(m, "unpause idle")
    assert xenlab.xm(m, "list idle").rows[0]["state"] == "-b----"


def test_config_file_errors_name_file_line_and_problem(tmp_path):
    cfg = tmp_path / "web.cfg"
    cfg.write_text('name = "web"\nmemory = 64\nmemroy = 32\n')
    m = xenlab.Machine()
    with pytest.raises(xenlab.XmError) as err:
        xenlab.xm(m, f"create {cfg}")
    msg = str(err.value)
    assert str(cfg) in msg and "line 3" in msg and "memroy" in msg and "did you mean 'memory'" in msg
    assert set(m.domains) == {0}
    cfg.write_text('name = "web"\nmemory = "lots"\n')
    with pytest.raises(xenlab.XmError, match=r"line 2: memory must be int"):
        xenlab.xm(m, f"create {cfg}")
    cfg.write_text('name = "web"\nmemory = 64 +\n')
    with pytest.raises(xenlab.XmError, match="line 2: syntax error"):
        xenlab.xm(m, f"create {cfg}")
    cfg.write_text('import os\n')
    with pytest.raises(xenlab.XmError, match="line 1: only 'name = value'"):
        xenlab.xm(m, f"create {cfg}")
    assert set(m.domains) == {0}


def test_config_file_like_xmexample1_creates_domain(tmp_path):
    cfg = tmp_path / "xmexample1"
    cfg.write_text('kernel = "/boot/vmlinuz-2.6-xenU"\nmemory = 64\nname = "ExampleDomain"\n'
                   "vif = ['']\nroot = \"/dev/hda1 ro\"\nextra = \"4\"\n")
    m = xenlab.Machine()
    r = xenlab.xm(m, f"create {cfg} vcpus=2")
    assert "Started domain ExampleDomain" in r.text
    d = m.domain_by_name("ExampleDomain")
    assert len(d.vcpus) == 2 and d.config.cmdline == "root=/dev/hda1 ro 4"


def test_create_c_shows_the_boot_console():
    m = xenlab.Machine()
    r = xenlab.xm(m, "create -c name=web memory=16")
    assert "Linux version" in r.text
    assert xenlab.xm(m, "console web").text.startswith("Linux version")


def test_unknown_subcommand_and_domain():
    m = xenlab.Machine()
    with pytest.raises(xenlab.XmError, match="Subcommand frob not found"):
        xenlab.xm(m, "frob")
    with pytest.raises(xenlab.XmError, match="Domain 'nope' does not exist"):
        xenlab.xm(m, "pause nope")
    with pytest.raises(xenlab.XmError, match="already exists"):
        xenlab.xm(m, "create name=a memory=16")
        xenlab.xm(m, "create name=a memory=16")


def test_destroy_and_info():
    m = xenlab.Machine(cpus=2)
    xenlab.xm(m, "create name=a memory=16")
    xenlab.xm(m, "destroy a")
    assert m.domain_by_name("a") is None
    info = xenlab.xm(m, "info").rows[0]
    assert info["nr_cpus"] == 2 and info["xen_major"] == 3 and info["xen_minor"] == 0


# Xen 3.0's rule (getdomaininfo() in X@RELEASE-3.0.0:xen/common/dom0_ops.c): a domain is "r" while one of
# its vcpus has VCPUF_running, i.e. sits on a physical CPU at this instant. xm itself runs in dom0, so
# dom0 is "r" and takes one CPU: at most one other domain per remaining CPU can be "r", and a runnable
# domain waiting for a CPU shows "------" (neither running nor blocked).
@pytest.mark.parametrize("cpus", [1, 2])
def test_running_letters_never_exceed_physical_cpus(cpus):
    m = xenlab.Machine(seed=0, cpus=cpus)
    for name in ("web", "db", "mail"):
        xenlab.xm(m, f"create name={name} memory=16 workload='cpu-bound'")
    for _ in range(5):
        m.run_for(7_000_000)
        rows = xenlab.xm(m, "list").rows
        states = {r["name"]: r["state"] for r in rows}
        assert states["Domain-0"][0] == "r"
        running = [n for n, s in states.items() if s[0] == "r"]
        assert len(running) <= cpus, states
        # cpu-bound domains never block: each one not on a CPU is runnable, "------"
        assert all(states[n] in ("r-----", "------") for n in ("web", "db", "mail")), states
        assert sum(states[n] == "------" for n in ("web", "db", "mail")) >= 3 - (cpus - 1)


def test_one_cpu_only_domain0_is_running_while_xm_runs():
    m = xenlab.Machine(seed=0, cpus=1)
    xenlab.xm(m, "create name=web memory=16 workload='cpu-bound'")
    m.run_for(30_000_000)
    web = m.domain_by_name("web")
    assert web.vcpus[0].is_running        # the model's scheduler had it on the CPU...
    assert xenlab.xm(m, "list web").rows[0]["state"] == "------"   # ...until dom0 ran xm there
    assert xenlab.xm(m, "list Domain-0").rows[0]["state"] == "r-----"


def test_with_an_idle_cpu_xm_takes_it_and_no_domain_is_preempted():
    # Two CPUs, one busy domain: dom0's vcpu running xm wakes onto the idle CPU (credit tickles idlers),
    # so web keeps its CPU and both show r.
    m = xenlab.Machine(seed=0, cpus=2)
    xenlab.xm(m, "create name=web memory=16 workload='cpu-bound'")
    m.run_for(30_000_000)
    states = {r["name"]: r["state"] for r in xenlab.xm(m, "list").rows}
    assert states == {"Domain-0": "r-----", "web": "r-----"}
