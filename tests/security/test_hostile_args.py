"""Hole 5 of issue 10: hostile but well-typed arguments return Xen's error code, state unchanged.

"State" is read raw: every byte of machine memory, the frame table's owner/count/type columns, each
domain's page count and the free list. The errno each case expects is Xen's (xen/include/public/
errno values through xenlab.xen.public.errno), or the model's documented rule for a value no C
field can hold (xen/hypercall.py)."""
import dataclasses
import itertools
import random
import zlib

import pytest

from xenlab.xen.hypercall import hypercall_table
from xenlab.xen.mm_types import vcpu_mm
from xenlab.xen.page_alloc import FREE
from xenlab.xen.public import errno as E
from xenlab.xen.public import event_channel as ev
from xenlab.xen.public import grant_table as G
from xenlab.xen.public import xen as X
from xenlab.xen.public.memory import (XENMEM_decrease_reservation, XENMEM_increase_reservation,
                                      XENMEM_populate_physmap, mmu_update_t, mmuext_op_t,
                                      xen_memory_reservation)

from sec_helpers import boot, gnttab


def state(m):
    """Raw machine state; memory as a CRC-32 of every byte (read in place: no 64 MiB copy per call)."""
    ft = m.frame_table
    return (zlib.crc32(memoryview(m.memory.data)), ft.owner.tobytes(), ft.count_info.tobytes(), ft.type_info.tobytes(),
            ft.free_frames, tuple(sorted((i, d.tot_pages) for i, d in m.domains.items())))


@pytest.fixture(scope="module")
def env():
    return boot()


@pytest.mark.parametrize("cmd", [XENMEM_increase_reservation, XENMEM_populate_physmap,
                                 XENMEM_decrease_reservation])
@pytest.mark.parametrize("order", [-1, 2 ** 40, 2 ** 32])
def test_memory_op_extent_order_unrepresentable(env, cmd, order):
    m, mal, _ = env
    res = xen_memory_reservation(extent_start=[0x1234], nr_extents=1, extent_order=order)
    before = state(m)
    assert mal.hypercall("memory_op", cmd, res) == -E.EINVAL
    assert state(m) == before


def test_memory_op_huge_but_valid_order(env):
    """0xFFFFFFFF fits the unsigned int: 3.0 answers 0 extents (an unprivileged domain may not ask for
    multi-page extents; dom0's alloc_domheap_pages fails above MAX_ORDER)."""
    m, mal, _ = env
    for d in (mal, m.dom0):
        res = xen_memory_reservation(nr_extents=1, extent_order=0xFFFFFFFF)
        before = state(m)
        assert d.hypercall("memory_op", XENMEM_increase_reservation, res) == 0
        assert state(m) == before


def test_populate_physmap_bad_gpfn_leaks_nothing(env):
    m, mal, _ = env
    before = state(m)
    res = xen_memory_reservation(extent_start=[-1], nr_extents=1)
    assert mal.hypercall("memory_op", XENMEM_populate_physmap, res) == 0
    assert state(m) == before
    free0, pages0 = m.frame_table.free_frames, mal.tot_pages
    res = xen_memory_reservation(extent_start=[7, None, 9], nr_extents=3)
    assert mal.hypercall("memory_op", XENMEM_populate_physmap, res) == 1     # the second extent stops it
    assert m.frame_table.free_frames == free0 - 1 and mal.tot_pages == pages0 + 1
    new = res.extent_start[0]
    assert int(m.frame_table.owner[new]) == mal.domain_id and int(m.m2p[new]) == 7
    owned = int((m.frame_table.owner != FREE).sum())
    assert owned + m.frame_table.free_frames == m.frame_table.nr_frames        # conserved


def test_decrease_reservation_bad_entries(env):
    m, mal, _ = env
    for bad in ([-1], ["x"], [2 ** 40], [None]):
        before = state(m)
        res = xen_memory_reservation(extent_start=bad, nr_extents=1)
        assert mal.hypercall("memory_op", XENMEM_decrease_reservation, res) == 0
        assert state(m) == before


def test_vm_assist_negative_type(env):
    m, mal, _ = env
    was = getattr(mal, "vm_assist", 0)
    for t in (-1, X.MAX_VMASST_TYPE + 1, 0xFFFFFFFF):
        assert mal.hypercall("vm_assist", X.VMASST_CMD_enable, t) == -E.EINVAL
    assert mal.hypercall("vm_assist", 0, -1) == -E.EINVAL
    assert getattr(mal, "vm_assist", 0) == was


def test_set_ldt_negative_base(env):
    m, mal, _ = env
    mm = vcpu_mm(mal.vcpus[0])
    old = (mm.ldt_base, mm.ldt_ents)
    for base, ents in ((-4096, 1), (-(1 << 31), 16), (0x1000, -1), (2 ** 40, 1)):
        op = mmuext_op_t(X.MMUEXT_SET_LDT, linear_addr=base, nr_ents=ents)
        assert mal.hypercall("mmuext_op", [op], 1) == -E.EINVAL
    assert (mm.ldt_base, mm.ldt_ents) == old
    assert mal.hypercall("mmuext_op", [mmuext_op_t(X.MMUEXT_SET_LDT, linear_addr=0x1000, nr_ents=16)]) == 0


def test_wrong_number_of_arguments(env):
    m, mal, _ = env
    before = state(m)
    assert mal.hypercall("vm_assist", 0) == -E.EFAULT            # a register never set
    assert mal.hypercall("vm_assist", 0, 1, 2) == -E.EINVAL      # see xen/hypercall.py
    assert mal.hypercall("mmu_update") == -E.EFAULT
    assert mal.hypercall("grant_table_op", G.GNTTABOP_query_size) == -E.EFAULT
    assert mal.hypercall("update_va_mapping", 0xC0000000, 0, 0, 0) == -E.EINVAL
    assert state(m) == before


def test_grant_ops_naming_a_domain_allocate_nothing(env):
    """The victim never used its grant table: another domain mapping, copying from or transferring to
    one of its refs gets an error and Xen allocates no frame for the victim's table."""
    m, mal, vic = env
    assert getattr(vic, "grant_table", None) is None
    from sec_helpers import copy_op, data_frames
    mine = data_frames(m, mal)[-1]
    gnttab(mal, G.GNTTABOP_setup_table, G.GnttabSetupTable(dom=X.DOMID_SELF, nr_frames=1))  # its own
    before = state(m)
    mp = G.GnttabMapGrantRef(flags=G.GNTMAP_host_map, ref=10, dom=vic.domain_id)
    cp = copy_op((10, vic.domain_id, 0), (mine, X.DOMID_SELF, 0), 8, G.GNTCOPY_source_gref)
    qs = G.GnttabQuerySize(dom=vic.domain_id)
    assert gnttab(mal, G.GNTTABOP_map_grant_ref, mp) == 0 and mp.status == G.GNTST_general_error
    assert gnttab(mal, G.GNTTABOP_copy, cp) == 0 and cp.status == G.GNTST_general_error
    assert gnttab(mal, G.GNTTABOP_query_size, qs) == 0 and qs.status == G.GNTST_permission_denied
    assert getattr(vic, "grant_table", None) is None
    assert state(m) == before
    qs = G.GnttabQuerySize(dom=vic.domain_id)
    assert gnttab(m.dom0, G.GNTTABOP_query_size, qs) == 0 and qs.status == G.GNTST_okay
    assert getattr(vic, "grant_table", None) is None and state(m)[1:] == before[1:]


# -- every hypercall, hostile values ----------------------------------------------------------------------
HOSTILE = [None, -1, -(2 ** 31) - 1, 2 ** 32, 2 ** 40, 2 ** 64, "x", 1.5, [], True, object()]


def _structs():
    out = []
    classes = [xen_memory_reservation, mmuext_op_t, X.sched_shutdown, X.sched_poll, G.GnttabMapGrantRef,
               G.GnttabUnmapGrantRef, G.GnttabSetupTable, G.GnttabTransfer, G.GnttabCopy, G.GnttabQuerySize]
    classes += [c for n, c in vars(ev).items() if n.startswith("evtchn_") and isinstance(c, type)
                and dataclasses.is_dataclass(c) and n != "evtchn_op"]
    for cls in classes:
        for f in dataclasses.fields(cls):
            for h in HOSTILE[:8]:
                try:
                    o = cls() if cls is not mmuext_op_t else cls(0)
                except TypeError:
                    continue
                setattr(o, f.name, h)
                out.append(o)
    out += [mmu_update_t(p, v) for p, v in itertools.product([-1, 2 ** 64, None, 0x1000], [-1, 2 ** 64, "x"])]
    return out


def test_no_hypercall_raises_on_hostile_arguments():
    """Every implemented hypercall, 0..max+1 arguments of hostile values and structs with hostile
    fields: an int comes back, and a negative one leaves machine memory and the frame table as they
    were."""
    import xenlab
    m = xenlab.Machine(memory_mb=32, seed=3, dom0_mem_mb=8)
    mal = m.create_domain(xenlab.DomainConfig(name="mallory", memory=2))
    m.create_domain(xenlab.DomainConfig(name="victim", memory=2))
    rng = random.Random(10)
    structs = _structs()
    before = state(m)
    scalars = HOSTILE + [0, 1, 2, 3, 6, 7, 12, X.DOMID_SELF]
    calls = 0
    for e in sorted((e for e in hypercall_table.values() if e.handler), key=lambda e: e.nr):
        for n in range(e.max_args + 2):
            for _ in range(16):
                args = tuple(rng.choice(scalars) if rng.random() < 0.6 else
                             rng.choice([rng.choice(structs), [rng.choice(structs)]]) for _ in range(n))
                if n >= 2 and rng.random() < 0.5:
                    args = (rng.choice([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12]),) + args[1:]
                rc = mal.hypercall(e.name, *args)
                calls += 1
                assert type(rc) is int, (e.name, args, rc)
                after = state(m)
                if rc < 0 and e.name != "sched_op":
                    assert after == before, (e.name, args, rc)
                before = after
    assert calls > 500
