"""The memory chapter's views without a browser: pure functions against hand-worked values, then the
widgets driven by their methods and buttons."""
import pytest

import xenlab
from xenlab.guest.p2m import read_start_info
from xenlab import i18n
from xenlab.guest.gdt import guest_gdt
from xenlab.hw.paging import PFEC_user_mode, PFEC_write_access
from xenlab.hw.segments import GateDescriptor, SegmentDescriptor
from xenlab.viz.memmap import (TYPE_CODES, ballooned_frames, frame_codes, frame_grid, owner_legend, p2m_runs,
                               page_table_frames)
from xenlab.viz.pagewalk import entry_bits, va_fields, walk_text, walk_view
from xenlab.viz.segments import descriptor_fields, gdt_rows, layout_regions, segment_span, try_install
from xenlab.xen.public.xen import DOMID_XEN


@pytest.fixture(scope="module", params=["2level", "pae"])
def machine(request):
    m = xenlab.Machine(memory_mb=64, paging=request.param, seed=3)
    a = m.create_domain(xenlab.DomainConfig(name="a", memory=8))
    b = m.create_domain(xenlab.DomainConfig(name="b", memory=8))
    a.pause()
    b.pause()
    return m, a, b


# -- segments ---------------------------------------------------------------------------------------------
def test_layout_regions_cover_4gb_with_xen_on_top():
    for mode, hvs in (("2level", 0xFC000000), ("pae", 0xF5800000)):
        r = layout_regions(mode)
        assert r[0]["start"] == 0 and r[-1]["end"] == 1 << 32
        assert all(x["end"] == y["start"] for x, y in zip(r, r[1:]))
        m2p = next(x for x in r if x["name"] == "m2p")
        assert m2p["start"] == hvs and m2p["mib"] == (4 if mode == "2level" else 16)


def test_descriptor_fields_hand_worked():
    f = descriptor_fields(0x00CFBA000000FFFF)              # flat ring-1 code, as in Xen's GDT page
    assert (f["base"], f["limit"], f["dpl"], f["g"], f["db"], f["kind"]) == \
        (0, 0xFFFFF, 1, 1, 1, "code execute/read")
    g = descriptor_fields(GateDescriptor(selector=0xE019, offset=0xC0100000, dpl=3).encode())
    assert g["gate"] and g["selector"] == 0xE019 and g["offset"] == 0xC0100000


def test_gdt_rows_and_install(machine):
    m, a, b = machine
    gdt = guest_gdt(a)
    assert gdt.rc == 0
    rows = gdt_rows(gdt.table, m.paging)
    assert [r["index"] for r in rows] == [12, 13, 14, 15] and all(r["ok"] for r in rows)
    top = 0xFC400000 if m.paging == "2level" else 0xF6800000
    assert rows[0]["byte_limit"] == top - 1                 # set_gdt truncated the flat segment
    r = try_install(gdt, 20, SegmentDescriptor.flat(0, True))
    assert (r["rc"], r["errno"], r["ok"]) == (-22, "-EINVAL", False) and "DPL 0" in r["rule"]
    assert gdt.table.read_raw(20) == 0                     # nothing changed
    r = try_install(gdt, 20, SegmentDescriptor(base=0x1000, limit=0xFFFFF, type=2, dpl=3, g=1))
    assert r["ok"] and r["truncated"] and r["span"] == (0x1000, top)
    r = try_install(gdt, 21, SegmentDescriptor(base=0x1000, limit=0xFFFFF, type=2, dpl=3, g=0))
    assert r["ok"] and not r["truncated"] and r["span"] == (0x1000, 0x101000)
    assert not try_install(gdt, 22, GateDescriptor(selector=0xE008, offset=0, dpl=3))["ok"]
    assert segment_span(SegmentDescriptor.flat(0, False).encode(), m.paging) is None


# -- page walk ----------------------------------------------------------------------------------------------
def test_va_fields_and_bits():
    assert [(f["name"], f["value"]) for f in va_fields(0xC0401234, "2level")] == \
        [("L2", 0x301), ("L1", 0x1), ("offset", 0x234)]
    assert [(f["name"], f["value"]) for f in va_fields(0xC0401234, "pae")] == \
        [("L3", 3), ("L2", 2), ("L1", 1), ("offset", 0x234)]
    bits = {b["name"]: b["set"] for b in entry_bits(0x63, "2level")}
    assert bits["P"] and bits["RW"] and bits["A"] and bits["D"] and not bits["US"] and "NX" not in bits


def test_walk_view_success_fault_and_p2m(machine):
    m, a, b = machine
    cr3 = a.vcpus[0].cr3
    v = walk_view(m, cr3, 0xC0005123, domain=a)
    assert v["fault"] is None and v["maddr"] == (a.p2m[5] << 12) | 0x123
    assert v["pfn"] == 5 and v["p2m_mfn"] == a.p2m[5]
    assert len(v["steps"]) == (2 if m.paging == "2level" else 3)
    assert "M2P[mfn] = pfn 0x5" in walk_text(v)
    f = walk_view(m, cr3, 0x40000000, access="w", user=True)
    assert f["maddr"] is None and f["fault"]["error_code"] == PFEC_write_access | PFEC_user_mode
    pt = walk_view(m, cr3, 0xC0000000 + (a.kernel.mm.root_pfn << 12), access="w")
    assert pt["fault"]["error_code"] & 1                     # the root is mapped read-only: protection


def test_walk_view_compares_a_student_walk(machine):
    m, a, b = machine
    cr3 = a.vcpus[0].cr3

    def good(mem, cr3, va, mode, write, user):
        from xenlab.hw.paging import PageFault, walk
        try:
            return walk(mem, cr3, va, "w" if write else "r", mode, user=user, set_ad=False)[0], None
        except PageFault as pf:
            return None, pf.error_code

    def stub(*args):
        raise NotImplementedError

    assert walk_view(m, cr3, 0xC0003000, walker=good)["agree"]
    assert walk_view(m, cr3, 0x1000, walker=good)["agree"]
    s = walk_view(m, cr3, 0xC0003000, walker=stub)
    assert not s["agree"] and s["yours"]["problem"] == "not written yet"
    assert walk_view(m, cr3, 0xC0003000, walker=lambda *a: 1 / 0)["yours"]["problem"].startswith("ZeroDivision")


def test_parse_va_and_failing_level():
    from xenlab.hw.memory import MachineMemory
    from xenlab.hw.paging import PageFault, walk
    from xenlab.viz.pagewalk import failing_level, parse_va
    assert parse_va("0xC0001234") == (0xC0001234, None) and parse_va(" c000_1234 ") == (0xC0001234, None)
    assert parse_va("4096") == (4096, None)
    assert parse_va("0x100000000")[0] is None and parse_va("hello")[0] is None and parse_va("")[0] is None
    # hand-built 2-level tables: the directory entry grants RW|US, the table entry only P|RW (supervisor)
    mem = MachineMemory(8)
    mem.write_u32(0x1000 + 0x300 * 4, 0x2000 | 0x7)
    mem.write_u32(0x2000 + 0x1 * 4, 0x5000 | 0x3)
    try:
        walk(mem, 0x1000, 0xC0001234, "r", "2level", user=True, set_ad=False)
    except PageFault as pf:
        steps = [{"level": s.level, "entry": s.entry} for s in pf.steps]
        assert pf.error_code == PFEC_user_mode | 1 and failing_level(steps, pf.error_code, "2level") == 1
    else:
        raise AssertionError("a user access to a supervisor page must fault")
    mem.write_u32(0x1000 + 0x300 * 4, 0x2000 | 0x5)                 # now the directory is read-only
    mem.write_u32(0x2000 + 0x1 * 4, 0x5000 | 0x7)
    try:
        walk(mem, 0x1000, 0xC0001234, "w", "2level", user=True, set_ad=False)
    except PageFault as pf:
        steps = [{"level": s.level, "entry": s.entry} for s in pf.steps]
        assert failing_level(steps, pf.error_code, "2level") == 0      # the directory withholds RW
    else:
        raise AssertionError("a write through a read-only directory entry must fault")


def test_fault_explained_in_both_languages(machine):
    from xenlab.viz.pagewalk import fault_explained
    m, a, b = machine
    v = walk_view(m, a.vcpus[0].cr3, 0x40000000, access="w", user=True)
    saved = i18n._explicit
    try:
        i18n.set_language("pl")
        pl = fault_explained(v)
        i18n.set_language("en")
        en = fault_explained(v)
    finally:
        i18n._explicit = saved
    assert "0x6" in pl[0] and "nieobecny" in " ".join(pl) and "przy zapisie" in " ".join(pl)
    assert "not present" in " ".join(en) and "on a write" in " ".join(en) and len(pl) == len(en) == 5


# -- memory map --------------------------------------------------------------------------------------------------
def test_frame_codes_by_owner_and_type(machine):
    m, a, b = machine
    codes = frame_codes(m, "owner")
    legend = owner_legend(m)
    code_of = {lbl.split()[0]: c for c, lbl, _ in legend}
    assert (codes == code_of[f"d{a.domain_id}"]).sum() == a.tot_pages + 1     # + the shared_info page
    assert (codes == 1).sum() == (m.frame_table.owner == DOMID_XEN).sum()
    types = frame_codes(m, "type")
    names = [n for n, _ in TYPE_CODES]
    pts = page_table_frames(m, a.domain_id)
    assert pts and all(types[f] in (names.index("l1"), names.index("l2"), names.index("l3")) for f in pts)
    root = a.kernel.mm.root_pfn                                           # the kernel's root table
    assert types[a.p2m[root]] == names.index("l2" if m.paging == "2level" else "l3")
    boot = (read_start_info(a).pt_base - 0xC0000000) >> 12               # the builder's bootstrap root
    assert types[a.p2m[boot]] == names.index("l2" if m.paging == "2level" else "l3")
    g = frame_grid(m, "type", width=128)
    assert g["grid"].shape[1] == 128 and sum(g["counts"].values()) == m.frame_table.nr_frames
    runs = p2m_runs(a)
    assert sum(n for _, _, n in runs) == len(a.p2m) and len(runs) >= 1
    with pytest.raises(ValueError):
        frame_codes(m, "colour")


def test_balloon_frames_marked():
    m = xenlab.Machine(memory_mb=64, seed=5)
    d = m.create_domain(xenlab.DomainConfig(name="bal", memory=8))
    d.pause()
    with m.trace.record("MEM") as events:
        assert d.kernel.mm.balloon_out(16) == 16
    gone = ballooned_frames(events, d.domain_id)
    assert len(gone) == 16 and all(m.frame_table.owner[f] == -1 for f in gone)
    codes = frame_codes(m, "type", ballooned=gone)
    assert (codes[gone] == len(TYPE_CODES) - 1).all()


# -- widgets -------------------------------------------------------------------------------------------------------
def test_widgets_drive_without_browser():
    pytest.importorskip("ipywidgets")
    pytest.importorskip("bqplot")
    from xenlab.viz.memmap import MemoryMap
    from xenlab.viz.pagewalk import PageWalker
    from xenlab.viz.segments import SegmentInspector
    m = xenlab.Machine(memory_mb=64, seed=7)
    d = m.create_domain(xenlab.DomainConfig(name="w", memory=8))
    d.pause()
    s = SegmentInspector(d)
    s.dpl.value = 0
    s.install_from_form()
    assert "-EINVAL" in s.result.value and s.last["rc"] == -22
    s.base.value = "not a number"
    s._guarded(lambda: s.install_from_form())()              # a bad form: caught and shown
    assert "ValueError" in s.error_box.value and s.errors
    w = PageWalker(d)
    assert w.view is not None and "<svg" in w.out.value            # walked on first display
    view = w.walk(0xC0002000)
    assert w.upto == len(view["steps"]) and view["maddr"] == d.p2m[2] << 12 and "M2P" in w.out.value
    w.step(-5)
    assert w.upto == 0 and "M2P" not in w.out.value and w.prev_b.disabled
    w.step(+1)
    w.step(+5)
    assert w.upto == len(view["steps"]) and "M2P" in w.out.value
    w.examples.value = 0x08048000
    assert w.view["fault"] is not None and w.view["va"] == 0x08048000 and w.va.value == "0x08048000"
    w.va.value = "0xc0003000"                                          # Enter in the box walks
    assert w.view["va"] == 0xC0003000 and w.view["fault"] is None
    w.access.value = "w"
    w.user.value = True                                                # every control walks again
    assert w.view["access"] == "w" and w.view["user"] and w.view["fault"]["error_code"] & 0b110 == 0b110
    w.va.value = "not an address"
    assert "not an address" in w.message.value and "ValueError" not in w.message.value + w.error_box.value
    assert w.view["va"] == 0xC0003000                                  # the last good walk stays
    mm = MemoryMap(m)
    mm.domain.value = d.domain_id
    assert mm.balloon(-32) == 32 and len(mm.ballooned) == 32
    shown = mm.image.image
    mm.by.value = "type"
    assert mm.image.image is mm.png and mm.image.image is not shown      # a new picture, so bqplot redraws
    width = mm.width
    assert bytes(mm.png.value)[:4] == b"\x89PNG" and list(mm.image.x) == [0, width]
    mfn = int(d.p2m[5])
    info = mm.select_at(mfn % width + 0.5, mfn - mfn % width + 0.2)      # a click on the cell of pfn 5
    assert info["mfn"] == mfn and info["pfn"] == 5 and mm.selected == mfn
    mm.zoom_to_domain()
    frames = m.frame_table.frames_of(d.domain_id)
    assert (mm.start, mm.stop) == (frames.min(), frames.max() + 1) and tuple(mm.zoom.value) == (mm.start, mm.stop)


# -- strings and the shared View base ----------------------------------------------------------------------------
@pytest.mark.parametrize("lang, texts", [
    ("pl", ("przestrzeń użytkownika gościa", "błąd w widżecie: E", "krok 1 z 3", "oddana przez sterownik balonowy")),
    ("en", ("guest user space", "error in the widget: E", "step 1 of 3", "given back by a balloon")),
])
def test_memory_views_words_come_from_the_catalogue(lang, texts):
    from xenlab.i18n import set_language
    from xenlab import i18n
    from xenlab.viz import memmap, pagewalk, segments
    saved = i18n._explicit
    try:
        set_language(lang)
        got = (segments.label("user"), segments.label("error", error="E"), pagewalk.label("step", i=1, n=3),
               memmap.label("ballooned"))
    finally:
        i18n._explicit = saved
    assert got == texts
    for mod in (segments, pagewalk, memmap):
        assert not hasattr(mod, "LABELS")


def test_memory_widgets_share_the_view_base():
    from xenlab.viz.base import View
    from xenlab.viz.memmap import MemoryMap
    from xenlab.viz.pagewalk import PageWalker
    from xenlab.viz.segments import SegmentInspector
    for cls, key in ((SegmentInspector, "viz.segments.error"), (PageWalker, "viz.pagewalk.error"),
                     (MemoryMap, "viz.memmap.error")):
        assert issubclass(cls, View) and cls.ERROR_KEY == key
        assert "_guarded" not in vars(cls) and "_ipython_display_" not in vars(cls)
