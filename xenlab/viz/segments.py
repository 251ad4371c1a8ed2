"""The segment inspector (chapter 3): a guest's GDT decoded, the 4 GiB address space with Xen's top
region, and a form to install a descriptor and see Xen accept or refuse it, with the rule that decided.

Pure functions (tested without a browser): ``gdt_rows`` decodes a descriptor table, ``layout_regions``
cuts the 32-bit address space into the guest's part, the read-only M2P window and Xen's own area,
``segment_span`` says which bytes a descriptor covers after Xen's check, and ``try_install`` sends
``update_descriptor`` and reports rc, errno, rule and what was stored. ``SegmentInspector`` draws them.
"""
from __future__ import annotations

from xenlab.hw.segments import GateDescriptor, SegmentDescriptor, decode, make_selector, type_name
from xenlab.i18n import t
from xenlab.i18n.narration import say
from xenlab.viz.base import View
from xenlab.xen.descriptor import GUEST_SEGMENT_MAX_ADDR, check_descriptor
from xenlab.xen.mm_types import HYPERVISOR_VIRT_START, MACH2PHYS_VIRT_END
from xenlab.xen.public.errno import errno_name

FOUR_GB = 1 << 32
PAGE_OFFSET = 0xC0000000
COLOURS = {"user": "#9ecae1", "kernel": "#3182bd", "m2p": "#fdae6b", "xen": "#d62728", "segment": "#2ca02c"}


def label(key: str, **kw) -> str:
    """The inspector's label ``key`` (a region, a verdict, the title ...) in the current language."""
    return t(f"viz.segments.{key}", **kw)


def descriptor_fields(raw: int) -> dict:
    """Every field of one 8-byte descriptor, decoded."""
    d = decode(raw)
    row = {"raw": raw, "present": bool(d.p), "dpl": d.dpl, "type": d.type, "s": d.s,
           "kind": type_name(d.s, d.type)}
    if isinstance(d, GateDescriptor):
        row.update(gate=True, selector=d.selector, offset=d.offset, base=None, limit=None, byte_limit=None,
                   g=None, db=None)
    else:
        row.update(gate=False, base=d.base, limit=d.limit, byte_limit=d.byte_limit, g=d.g, db=d.db)
    return row


def gdt_rows(table, mode: str = "2level", only_present: bool = True, rpl: int | None = None) -> list[dict]:
    """One dict per descriptor of ``table`` (a hw.segments.DescriptorTable): fields, selector, and
    Xen's verdict on it (``ok``, ``rule``)."""
    rows = []
    for i in range(len(table)):
        raw = table.read_raw(i)
        if only_present and not raw >> 47 & 1:
            continue
        row = descriptor_fields(raw)
        v = check_descriptor(raw, mode)
        row.update(index=i, selector=make_selector(i, 0, row["dpl"] if rpl is None else rpl),
                   ok=v.ok, rule=v.rule)
        rows.append(row)
    return rows


def rows_text(rows: list[dict], translate: bool = False) -> str:
    """The table as text: in the current language with ``translate`` (the widget), otherwise in the words
    the course's compared outputs use (the same in pl/ and en/)."""
    header = "entry selector raw                type                     DPL base limit(last byte) G D/B P | Xen's check"
    out = [label("header") if translate else header]
    ok, refused = (label("ok"), label("REFUSED")) if translate else ("ok", "REFUSED")
    for r in rows:
        if r["gate"]:
            what = f"-> {r['selector']:#06x}:{r['offset']:#x}"
        else:
            what = f"{r['base']:#010x} {r['limit']:#07x}({r['byte_limit']:#x}) {r['g']} {r['db']}"
        out.append(f"{r['index']:5d} {r['selector']:#06x} {r['raw']:#018x} {r['kind']:24s} {r['dpl']} {what} "
                   f"{int(r['present'])} | {ok if r['ok'] else refused}: {say(r['rule']) if translate else r['rule']}")
    return "\n".join(out)


def layout_regions(mode: str = "2level") -> list[dict]:
    """The 32-bit linear address space cut into its parts (start inclusive, end exclusive)."""
    hvs, m2p_end = HYPERVISOR_VIRT_START[mode], MACH2PHYS_VIRT_END[mode]
    parts = (("user", 0, PAGE_OFFSET), ("kernel", PAGE_OFFSET, hvs), ("m2p", hvs, m2p_end), ("xen", m2p_end, FOUR_GB))
    return [{"name": n, "start": a, "end": b, "colour": COLOURS[n], "label": label(n),
             "mib": (b - a) >> 20} for n, a, b in parts]


def segment_span(raw: int, mode: str = "2level") -> tuple[int, int] | None:
    """The bytes ``[start, end)`` a code/data segment covers as Xen stores it; None for refused,
    not-present or system descriptors."""
    v = check_descriptor(raw, mode)
    d = decode(v.raw)
    if not v.ok or not d.p or isinstance(d, GateDescriptor) or not d.s:
        return None
    if d.expand_down:
        top = FOUR_GB if d.db else 0x10000
        return (d.base + d.byte_limit + 1) % FOUR_GB, min(FOUR_GB, d.base + top)
    return d.base, min(FOUR_GB, d.base + d.byte_limit + 1)


def try_install(gdt, index: int, desc) -> dict:
    """update_descriptor on the guest's GDT entry ``index`` (a ``guest.gdt.GuestGDT``): what came back."""
    raw = desc if isinstance(desc, int) else desc.encode()
    mode = gdt.d.machine.paging
    verdict = check_descriptor(raw, mode)
    rc = gdt.install(index, raw)
    stored = gdt.table.read_raw(index)
    return {"index": index, "raw": raw, "rc": rc, "errno": errno_name(rc) if rc < 0 else "0",
            "ok": rc == 0, "rule": verdict.rule, "stored": stored, "truncated": rc == 0 and stored != raw,
            "span": segment_span(stored, mode) if rc == 0 else None, "max_addr": GUEST_SEGMENT_MAX_ADDR[mode]}


def install_text(r: dict) -> str:
    verdict = label("accepted") if r["ok"] else label("refused")
    return (f"update_descriptor({r['index']}, {r['raw']:#018x}) = {r['rc']} ({r['errno']}): {verdict}; "
            f"{label('rule')}: {r['rule']}; {label('stored')}: {r['stored']:#018x}")


class SegmentInspector(View):
    """The GDT of a PV domain, the address-space bar, and an install form."""

    ERROR_KEY = "viz.segments.error"

    def __init__(self, domain):
        import bqplot as bq
        import ipywidgets as W
        from xenlab.guest.gdt import guest_gdt
        self.d, self.gdt = domain, guest_gdt(domain)
        self.mode = domain.machine.paging
        self.errors: list[str] = []
        self.last: dict | None = None
        regions = layout_regions(self.mode)
        xs = bq.LinearScale(min=0, max=4096)                  # MiB
        ys = bq.LinearScale(min=0, max=2)
        self.region_marks = [bq.Lines(x=[r["start"] >> 20, r["end"] >> 20], y=[1, 1], stroke_width=28,
                                      colors=[r["colour"]], labels=[r["label"]], display_legend=True,
                                      scales={"x": xs, "y": ys}) for r in regions]
        self.seg_mark = bq.Lines(x=[0, 0], y=[0.4, 0.4], stroke_width=10, colors=[COLOURS["segment"]],
                                 scales={"x": xs, "y": ys})
        ax = bq.Axis(scale=xs, label="MiB", tick_values=[0, 1024, 2048, 3072, HYPERVISOR_VIRT_START[self.mode] >> 20])
        self.figure = bq.Figure(marks=self.region_marks + [self.seg_mark], axes=[ax], title=label("title"),
                                animation_duration=0, legend_location="top-left",
                                layout=W.Layout(width="100%", height="180px"))
        self.table = W.HTML()
        self.index = W.BoundedIntText(description=label("index"), min=0, max=31, value=20)
        self.base = W.Text(description=label("form.base"), value="0x00000000")
        self.limit = W.Text(description=label("form.limit"), value="0xfffff")
        self.dpl = W.Dropdown(description="DPL", options=[0, 1, 2, 3], value=1)
        kinds = (("data", 0x2), ("code", 0xA), ("expand_down", 0x6), ("call_gate", -1), ("tss", -9))
        self.kind = W.Dropdown(description=label("form.type"), options=[(label(f"form.{k}"), v) for k, v in kinds],
                               value=0x2)
        self.g = W.Checkbox(description=label("form.g"), value=True)
        button = W.Button(description=label("install"), button_style="primary")
        button.on_click(self._guarded(lambda *_: self.install_from_form()))
        self.result = W.HTML()
        self.error_box = W.HTML()
        form = W.VBox([W.HBox([self.index, self.dpl, self.kind]), W.HBox([self.base, self.limit, self.g, button])])
        self.widget = W.VBox([self.figure, form, self.result, self.table, self.error_box])
        self.redraw()

    def descriptor_from_form(self):
        kind, dpl = self.kind.value, self.dpl.value
        if kind == -1:
            return GateDescriptor(selector=int(self.base.value, 0) & 0xFFFF, offset=0xC0100000, dpl=dpl)
        if kind == -9:
            return SegmentDescriptor(base=int(self.base.value, 0), limit=int(self.limit.value, 0), type=0x9, s=0,
                                     dpl=dpl, g=int(self.g.value))
        return SegmentDescriptor(base=int(self.base.value, 0), limit=int(self.limit.value, 0), type=kind,
                                 dpl=dpl, g=int(self.g.value))

    def install(self, index: int, desc) -> dict:
        self.last = try_install(self.gdt, index, desc)
        self.result.value = f"<pre>{install_text(self.last)}</pre>"
        self.redraw()
        return self.last

    def install_from_form(self) -> dict:
        return self.install(self.index.value, self.descriptor_from_form())

    def redraw(self):
        self.table.value = "<pre>" + rows_text(gdt_rows(self.gdt.table, self.mode), translate=True) + "</pre>"
        span = self.last["span"] if self.last else None
        with self.seg_mark.hold_sync():
            self.seg_mark.x = [span[0] >> 20, span[1] >> 20] if span else [0, 0]

