"""dom0's tools and back ends see Xen only through xen/include/public (issue 13, "The boundary"):
no module of xenlab/toolstack or xenlab/dom0 imports a Xen internal, at module level or inside a
function. (dom0/qemu_dm.py, the device model, is checked with the whole import graph elsewhere.)"""
import ast
import pathlib

import xenlab

ROOT = pathlib.Path(xenlab.__file__).parent


def _imports(path: pathlib.Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            yield node.lineno, node.module, [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            for a in node.names:
                yield node.lineno, a.name, []


def _modules():
    for sub in ("toolstack", "dom0"):
        for path in sorted((ROOT / sub).glob("*.py")):
            if path.name != "qemu_dm.py":
                yield path


def test_the_tools_import_only_xens_public_interface():
    bad = []
    for path in _modules():
        for line, mod, names in _imports(path):
            if mod == "xenlab.xen":
                bad += [f"{path.name}:{line} from xenlab.xen import {n}" for n in names if n != "public"]
            elif mod.startswith("xenlab.xen.") and not mod.startswith("xenlab.xen.public"):
                bad.append(f"{path.name}:{line} {mod}")
    assert bad == []


def test_the_checker_sees_a_violation(tmp_path):
    p = tmp_path / "m.py"
    p.write_text("def f():\n    from xenlab.xen.gnttab import foreign_page\n")
    assert [m for _, m, _ in _imports(p)] == ["xenlab.xen.gnttab"]


def test_xend_and_its_device_controllers_do_not_import_each_other_both_ways():
    devices = {m for _, m, _ in _imports(ROOT / "toolstack" / "devices.py")}
    assert "xenlab.toolstack.xend" not in devices


def test_the_scheduler_table_names_the_models_schedulers():
    """public/sched_ctl.py (what xm maps DOM0_SCHED_ID answers with) agrees with each scheduler."""
    from xenlab.xen.public.sched_ctl import SCHED_IDS
    for name, sid in SCHED_IDS.items():
        m = xenlab.Machine(seed=0, memory_mb=32, sched=name)
        assert m.scheduler.sched_id == sid and m.scheduler.opt_name == name
        assert xenlab.xm(m, "info").rows[0]["xen_scheduler"] == name
