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
COLOURS = {"user": "#9ecae1", "kernel": "#3182bd", "m2p": "#fdae6b", "xen": "#3c3c3c", "segment": "#009e73"}  # xen, segment: theme.XEN, theme.OK


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
        kind = kind_text(r["kind"]) if translate else r["kind"]
        out.append(f"{r['index']:5d} {r['selector']:#06x} {r['raw']:#018x} {kind:24s} {r['dpl']} {what} "
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


# Xen's check (xen/descriptor.py) gives its rule in English, as Xen's log would; the inspector shows it
# in the student's language. An unknown rule is shown as it is.
RULES = [
    (r"^not present: always faults, so harmless$", "not_present"),
    (r"^DPL 0 refused: ring 0 belongs to Xen$", "dpl0"),
    (r"^system descriptor other than a call gate refused$", "system"),
    (r"^call gate to selector (?P<sel>0x[0-9a-f]+): not guest code$", "gate_not_guest"),
    (r"^call gate reserved bits set$", "gate_reserved"),
    (r"^call gate to guest code$", "gate_ok"),
    (r"^base (?P<base>0x[0-9a-f]+) within a page of Xen's area \((?P<top>0x[0-9a-f]+)\)$", "base_near_xen"),
    (r"^expand-down segment would wrap into Xen's area$", "expand_down_wrap"),
    (r"^limit truncated to end at (?P<top>0x[0-9a-f]+)$", "truncated"),
    (r"^segment stays below Xen's area$", "below_xen"),
    (r"^byte-granular segment reaching Xen's area refused$", "byte_granular"),
]


def rule_text(rule: str) -> str:
    import re
    for pattern, key in RULES:
        m = re.match(pattern, rule or "")
        if m:
            return t(f"viz.views.segments.rule.{key}", **m.groupdict())
    return rule


def kind_text(kind: str) -> str:
    """type_name's words ('code execute/read', 'data read/write expand-down', 'call-gate') translated;
    the other system names (tss, ldt) are Intel's and stay."""
    words = {"code": "code", "data": "data", "execute/read": "execute_read", "execute-only": "execute_only",
             "read/write": "read_write", "read-only": "read_only", "conforming": "conforming",
             "expand-down": "expand_down", "read": None}
    if kind == "call-gate":
        return t("out.03.call_gate_kind")
    if not kind.startswith(("code", "data")):
        return kind
    out = []
    for w in kind.replace("execute/read", "execute/read").split():
        key = words.get(w)
        out.append(t(f"viz.views.segments.kind.{key}") if key else w)
    return " ".join(out)


def install_text(r: dict) -> str:
    verdict = label("accepted") if r["ok"] else label("refused")
    return (f"update_descriptor({r['index']}, {r['raw']:#018x}) = {r['rc']} ({r['errno']}): {verdict}; "
            f"{label('rule')}: {rule_text(r['rule'])}; {label('stored')}: {r['stored']:#018x}")


def rows_html(rows: list[dict]) -> str:
    """The decoded GDT as a table (the widget's): cells never break inside a word."""
    from xenlab.viz.theme import OK, REFUSED, table_html
    heads = [t(f"viz.views.segments.col.{k}") for k in ("entry", "selector", "raw", "type", "dpl", "target", "p",
                                                         "check")]
    out = []
    for r in rows:
        if r["gate"]:
            target = f"→ {r['selector']:#06x}:{r['offset']:#x}"
        else:
            target = f"{r['base']:#010x} + {r['byte_limit'] + 1:#x} (G={r['g']}, D/B={r['db']})"
        colour = OK if r["ok"] else REFUSED
        verdict = label("ok") if r["ok"] else label("REFUSED")
        out.append([r["index"], f"{r['selector']:#06x}", f"{r['raw']:#018x}", kind_text(r["kind"]), r["dpl"], target,
                    int(r["present"]), f"<span style='color:{colour};white-space:normal'>{verdict}: "
                                       f"{rule_text(r['rule'])}</span>"])
    return table_html(heads, out)


class SegmentInspector(View):
    """The GDT of a PV domain, the address-space bar (with the top 64 MiB magnified, where the 4 MiB
    M2P window and Xen's area are), and an install form that previews Xen's verdict as it is filled."""

    ERROR_KEY = "viz.segments.error"
    ZOOM_MIB = 64

    def __init__(self, domain):
        import bqplot as bq
        import ipywidgets as W
        from xenlab.guest.gdt import guest_gdt
        from xenlab.viz import theme
        self.d, self.gdt = domain, guest_gdt(domain)
        self.mode = domain.machine.paging
        self.errors: list[str] = []
        self.last: dict | None = None
        regions = layout_regions(self.mode)
        font = theme.axis_font()
        self.figures, self.seg_marks = [], []
        top = 4096 - self.ZOOM_MIB
        hvs = HYPERVISOR_VIRT_START[self.mode] >> 20
        for lo, hi, ticks, title in ((0, 4096, [0, 1024, 2048, 3072, hvs], label("title")),
                                     (top, 4096, sorted({top, hvs, MACH2PHYS_VIRT_END[self.mode] >> 20, 4096}),
                                      t("viz.views.segments.zoom", mib=self.ZOOM_MIB))):
            xs, ys = bq.LinearScale(min=lo, max=hi), bq.LinearScale(min=0, max=2)
            marks = [bq.Lines(x=[max(r["start"] >> 20, lo), max(r["end"] >> 20, lo)], y=[1.2, 1.2], stroke_width=28,
                              colors=[r["colour"]], scales={"x": xs, "y": ys})
                     for r in regions if (r["end"] >> 20) > lo]
            seg = bq.Lines(x=[lo, lo], y=[0.45, 0.45], stroke_width=10, colors=[COLOURS["segment"]],
                           scales={"x": xs, "y": ys})
            self.seg_marks.append(seg)
            ax = bq.Axis(scale=xs, label=t("viz.views.segments.mib_axis"), tick_values=ticks, tick_format="d",
                         tick_style=font)
            self.figures.append(bq.Figure(marks=marks + [seg], axes=[ax], title=title, animation_duration=0,
                                          fig_margin={"top": 40, "bottom": 45, "left": 30, "right": 30},
                                          layout=W.Layout(**theme.fitted_figure_layout(150))))
        self.seg_mark = self.seg_marks[0]
        self.legend = W.HTML(theme.legend_html([(r["label"] + f" ({r['mib']} MiB)", r["colour"]) for r in regions]
                                               + [(t("viz.views.segments.segment"), COLOURS["segment"])]))
        self.table = W.HTML()
        style = theme.slider_style()
        self.index = W.BoundedIntText(description=label("index"), min=0, max=31, value=20, style=style,
                                      layout=W.Layout(width="280px"))
        self.base = W.Text(description=label("form.base"), value="0x00000000", style=style,
                           continuous_update=False, layout=W.Layout(width="300px"))
        self.limit = W.Text(description=label("form.limit"), value="0xfffff", style=style,
                            continuous_update=False, layout=W.Layout(width="300px"))
        self.dpl = W.Dropdown(description="DPL", options=[0, 1, 2, 3], value=1, style=style,
                              layout=W.Layout(width="280px"))
        kinds = (("data", 0x2), ("code", 0xA), ("expand_down", 0x6), ("call_gate", -1), ("tss", -9))
        self.kind = W.Dropdown(description=label("form.type"), options=[(label(f"form.{k}"), v) for k, v in kinds],
                               value=0x2, style=style, layout=W.Layout(width="340px"))
        self.g = W.Checkbox(description=label("form.g"), value=True, layout=W.Layout(width="auto"))
        button = W.Button(description=label("install"), button_style="primary", layout=theme.button_layout())
        button.on_click(self._guarded(lambda *_: self.install_from_form()))
        for control in (self.index, self.base, self.limit, self.dpl, self.kind, self.g):
            control.observe(self._guarded(lambda *_: self.preview()), names="value")
        self.preview_box = W.HTML()
        self.result = W.HTML()
        self.error_box = W.HTML()
        form = W.VBox([theme.controls_row([self.index, self.dpl, self.kind]),
                       theme.controls_row([self.base, self.limit, self.g, button])])
        self.widget = W.VBox([*self.figures, self.legend, form, self.preview_box, self.result, self.table,
                              self.error_box], layout=W.Layout(max_width=f"{theme.MAX_WIDTH_PX}px"))
        self._relabel()
        self.redraw()
        self.preview()

    def _relabel(self):
        """A call gate has a target selector and no base or limit: the form says so."""
        gate = self.kind.value == -1
        self.base.description = t("viz.views.segments.gate_selector") if gate else label("form.base")
        if gate and self.base.value == "0x00000000":
            self.base.value = "0xe019"                      # FLAT_RING1_CS: the guest kernel's code
        self.limit.disabled = self.g.disabled = gate

    def _number(self, text: str, what: str) -> int:
        try:
            return int(text.strip(), 0)
        except ValueError:
            raise ValueError(t("viz.views.segments.bad_number", what=what, text=text)) from None

    def descriptor_from_form(self):
        kind, dpl = self.kind.value, self.dpl.value
        bad = []                                   # every field that is not a number, not only the first
        for box in ((self.base,) if kind == -1 else (self.base, self.limit)):
            try:
                self._number(box.value, box.description)
            except ValueError as exc:
                bad.append(str(exc))
        if bad:
            raise ValueError(" ".join(bad))
        if kind == -1:
            return GateDescriptor(selector=self._number(self.base.value, self.base.description) & 0xFFFF,
                                  offset=0xC0100000, dpl=dpl)
        base = self._number(self.base.value, self.base.description)
        limit = self._number(self.limit.value, self.limit.description)
        if kind == -9:
            return SegmentDescriptor(base=base, limit=limit, type=0x9, s=0, dpl=dpl, g=int(self.g.value))
        return SegmentDescriptor(base=base, limit=limit, type=kind, dpl=dpl, g=int(self.g.value))

    def preview(self):
        """What Xen would say about the form's descriptor, before it is installed."""
        from xenlab.viz.theme import FONT_PX, REFUSED
        self._relabel()
        kind = next(lbl for lbl, v in self.kind.options if v == self.kind.value)
        form = t("viz.views.segments.form_now", index=self.index.value, dpl=self.dpl.value, kind=kind,
                 base=self.base.value, limit="–" if self.kind.value == -1 else self.limit.value,
                 g="–" if self.kind.value == -1 else int(self.g.value))
        try:
            raw = self.descriptor_from_form().encode()
        except ValueError as exc:
            self.preview_box.value = (f"<div style='font-size:{FONT_PX}px'>{form}<br>"
                                      f"<span style='color:{REFUSED}'>{exc}</span></div>")
            return
        v = check_descriptor(raw, self.mode)
        verdict = label("accepted") if v.ok else label("refused")
        self.preview_box.value = (f"<div style='font-size:{FONT_PX}px'>{form}<br>"
                                  + t("viz.views.segments.preview", index=self.index.value, raw=f"{raw:#018x}",
                                      kind=kind_text(type_name(*self._kind_bits())), verdict=verdict,
                                      rule=rule_text(v.rule)) + "</div>")

    def _kind_bits(self) -> tuple[int, int]:
        """(S, type) of the form's choice: a call gate and a TSS are system descriptors."""
        kind = self.kind.value
        return (0, 0xC) if kind == -1 else (0, 0x9) if kind == -9 else (1, kind)

    def install(self, index: int, desc) -> dict:
        from xenlab.viz.theme import pre_html
        self.last = try_install(self.gdt, index, desc)
        self.result.value = pre_html(install_text(self.last))
        self.redraw()
        return self.last

    def install_from_form(self) -> dict:
        return self.install(self.index.value, self.descriptor_from_form())

    def redraw(self):
        self.table.value = rows_html(gdt_rows(self.gdt.table, self.mode))
        span = self.last["span"] if self.last else None
        for seg, lo in zip(self.seg_marks, (0, 4096 - self.ZOOM_MIB)):
            with seg.hold_sync():
                seg.x = [max(span[0] >> 20, lo), max(span[1] >> 20, lo)] if span else [lo, lo]
