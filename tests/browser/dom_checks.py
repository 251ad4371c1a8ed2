"""What a widget draws, checked in the browser: reusable on any notebook open in a Playwright page.

    report = inspect_widgets(page)               # every widget output in the open notebook
    problems = check_report(report, lang="pl")   # a list of readable findings ([] when all is well)
    unchanged = exercise_controls(page)          # every button/slider/dropdown/text box used once

What is checked (issue 11's "must hold"):
- every bqplot figure draws at least one mark with data (a path with a real ``d``, a rect with an area,
  a circle, an image or a mark's text), and no legend lies over a mark;
- no two visible texts overlap (SVG text boxes and HTML text lines), no label, button or dropdown text
  is cut (``scrollWidth > clientWidth``, a trailing ellipsis, an SVG text outside its figure);
- nothing overflows its output area horizontally (a box right of the area, or a scrolled box);
- in Polish: no raw catalogue key and no English sentence (Xen's identifiers and xm commands are not
  sentences; ``ALLOWED_ENGLISH`` lists the few phrases that are names);
- every control changes the view when used (``exercise_controls``): the output's DOM, less the control
  itself, differs after the action, or the control is tried again after the others and then does.
"""
from __future__ import annotations

import re

WIDGET_OUTPUT = '.jp-OutputArea-output:has(> .jupyter-widgets)'

_COLLECT = r"""(sel) => {
  const outs = [...document.querySelectorAll(sel)];
  const vis = (el) => { const s = getComputedStyle(el);
    if (s.display === 'none' || s.visibility === 'hidden' || parseFloat(s.opacity) === 0) return false;
    const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const box = (r) => ({l: r.left, t: r.top, r: r.right, b: r.bottom});
  const hiddenUp = (el, root) => { for (let e = el; e && e !== root; e = e.parentElement) {
      const s = getComputedStyle(e); if (s.display === 'none' || s.visibility === 'hidden') return true; } return false; };
  const describe = (el) => (el.className && el.className.baseVal !== undefined ? el.className.baseVal : el.className) || el.tagName;
  return outs.map((out, index) => {
    const area = out.getBoundingClientRect();
    const res = {index, width: area.width, figures: [], texts: [], cut: [], overflow: [], legends: []};
    // bqplot figures and their marks
    for (const fig of out.querySelectorAll('.bqplot.figure')) {
      if (!vis(fig)) continue;
      const title = (fig.querySelector('.mainheading') || {}).textContent || '';
      let data = 0, sample = ''; const markBoxes = [];
      for (const m of fig.querySelectorAll('svg.svg-figure g[clip-path]')) {
        for (const e of m.querySelectorAll('path, rect, circle, image, text, line')) {
          if (hiddenUp(e, fig) || e.closest('.g_legend') || e.matches('.zeroLine')) continue;
          const r = e.getBoundingClientRect(); let ok = false;
          if (e.tagName === 'path') { const d = e.getAttribute('d') || ''; ok = d.length > 6 && !/^M?\s*0,0\s*$/.test(d) && !d.includes('NaN') && (r.width > 0 || r.height > 0); }
          else if (e.tagName === 'rect' || e.tagName === 'image') { const g = e.getBBox(); ok = g.width > 0.5 && g.height > 0.5 && r.width > 0.5 && r.height > 0.5; }
          else if (e.tagName === 'circle') ok = parseFloat(e.getAttribute('r') || '0') > 0 || r.width > 0;
          else if (e.tagName === 'line') ok = r.width > 0 || r.height > 0;
          else if (e.tagName === 'text') ok = e.textContent.trim() !== '';
          if (ok) { data++; if (!sample) sample = e.outerHTML.slice(0, 200); if (e.tagName !== 'text') markBoxes.push(box(r)); }
        }
      }
      res.figures.push({title, data, sample});
      for (const lg of fig.querySelectorAll('g.g_legend')) {
        if (!vis(lg)) continue;
        const L = box(lg.getBoundingClientRect());
        const hits = markBoxes.filter(b => Math.min(L.r, b.r) - Math.max(L.l, b.l) > 3 && Math.min(L.b, b.b) - Math.max(L.t, b.t) > 3).length;
        if (hits) res.legends.push({title, hits});
      }
      const F = (fig.querySelector('svg.svg-figure') || fig).getBoundingClientRect();
      for (const t of fig.querySelectorAll('text')) {
        if (!t.textContent.trim() || !vis(t) || hiddenUp(t, fig)) continue;
        const r = t.getBoundingClientRect();
        if (r.left < F.left - 1 || r.right > F.right + 1 || r.top < F.top - 1 || r.bottom > F.bottom + 1)
          res.cut.push({text: t.textContent.trim(), why: 'outside its figure'});
      }
    }
    // every visible text: SVG text elements, and HTML text nodes line by line
    for (const t of out.querySelectorAll('svg text')) {
      const s = t.textContent.trim(); if (!s || !vis(t) || hiddenUp(t, out)) continue;
      res.texts.push({s, svg: true, rects: [box(t.getBoundingClientRect())]});
    }
    const walker = document.createTreeWalker(out, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const s = n.textContent.trim(); const p = n.parentElement;
      if (!s || !p || p.closest('svg') || p.closest('option') || p.closest('style, script') || hiddenUp(p, out)) continue;
      const range = document.createRange(); range.selectNodeContents(n);
      const rects = [...range.getClientRects()].filter(r => r.width > 0.5 && r.height > 0.5).map(box);
      if (rects.length) res.texts.push({s, svg: false, rects});
    }
    for (const sel of out.querySelectorAll('select')) {
      if (!vis(sel)) continue;
      const o = sel.options[sel.selectedIndex]; if (!o) continue;
      const ctx = document.createElement('canvas').getContext('2d'); const st = getComputedStyle(sel);
      ctx.font = `${st.fontSize} ${st.fontFamily}`;
      const need = ctx.measureText(o.textContent).width + 28;   // the arrow and the padding
      res.texts.push({s: o.textContent.trim(), svg: false, rects: []});
      if (need > sel.clientWidth + 1) res.cut.push({text: o.textContent.trim(), why: `dropdown ${Math.round(sel.clientWidth)} px < ${Math.round(need)} px`});
    }
    // cut labels and buttons
    for (const el of out.querySelectorAll('.widget-label, .widget-label-basic, label, button, .widget-readout, .widget-button')) {
      if (!vis(el)) continue;
      const s = el.textContent.trim(); if (!s) continue;
      if (el.scrollWidth > el.clientWidth + 1) res.cut.push({text: s, why: `${el.scrollWidth} px of text in ${el.clientWidth} px`});
    }
    for (const t of res.texts) if (/(\.\.\.|…)$/.test(t.s)) res.cut.push({text: t.s, why: 'ends with an ellipsis'});
    // horizontal overflow
    for (const el of out.querySelectorAll('*')) {
      if (el.closest('option') || !vis(el)) continue;
      const r = el.getBoundingClientRect();
      if (r.right > area.right + 2) { res.overflow.push({what: describe(el), by: Math.round(r.right - area.right)}); continue; }
      const s = getComputedStyle(el);
      if (['auto', 'scroll', 'hidden'].includes(s.overflowX) && el.scrollWidth > el.clientWidth + 2 && el.tagName !== 'svg' && !el.closest('svg')
          && !['SELECT', 'INPUT', 'TEXTAREA', 'BUTTON'].includes(el.tagName) && !el.matches('.widget-label, .widget-readout, .jp-OutputArea-output'))
        res.overflow.push({what: describe(el), by: el.scrollWidth - el.clientWidth, scrolled: true});
    }
    if (out.scrollWidth > out.clientWidth + 2) res.overflow.push({what: 'output area', by: out.scrollWidth - out.clientWidth});
    return res;
  });
}"""


def inspect_widgets(page) -> list[dict]:
    """Everything ``check_report`` needs, per widget output of the notebook open in ``page``."""
    return page.evaluate(_COLLECT, WIDGET_OUTPUT)


def _overlaps(texts, min_px: float = 2.5):
    found = []
    flat = [(i, r) for i, t in enumerate(texts) for r in t["rects"]]
    for a in range(len(flat)):
        i, p = flat[a]
        for b in range(a + 1, len(flat)):
            j, q = flat[b]
            if i == j:
                continue
            w = min(p["r"], q["r"]) - max(p["l"], q["l"])
            h = min(p["b"], q["b"]) - max(p["t"], q["t"])
            if w > min_px and h > min_px:
                found.append((texts[i]["s"], texts[j]["s"]))
    return found


# --- language -----------------------------------------------------------------------------------------
# Function words of English that are not Polish words: two different ones in one text make a sentence.
ENGLISH_WORDS = {"the", "and", "is", "are", "was", "were", "has", "have", "had", "with", "from", "which",
                 "this", "that", "not", "for", "of", "been", "its", "into", "yet", "after", "before", "when",
                 "while", "then", "than", "an", "in", "at", "it", "or", "be", "will", "can", "does", "did",
                 "there", "no", "more", "held", "off", "answered", "pushed", "waiting", "running", "blocked"}
# Names that look like English but are what Xen, the toolstack or the papers call things.
ALLOWED_ENGLISH = ("Borrowed Virtual Time", "Round Robin", "xm ", "Xen", "Credit", "Atropos", "SEDF", "BVT",
                   "RTDS", "Credit2", "Linux", "XenoLinux", "VMware", "User-Mode Linux", "blkfront", "blkback",
                   "netfront", "netback", "xentop", "xenstore")
_WORD = re.compile(r"(?<![\w.-])[A-Za-z]+(?![\w.(-])")


# Verbatim output of Xen's own tools, shown as the tool prints it (xentop's header and columns).
TOOL_OUTPUT = ("xentop - ",)


def english_sentence(text: str) -> bool:
    """True when ``text`` reads as English prose (two different English function words)."""
    if text.lstrip().startswith(TOOL_OUTPUT):
        return False
    for name in ALLOWED_ENGLISH:
        text = text.replace(name, " ")
    words = {w.lower() for w in _WORD.findall(text)}
    hits = words & ENGLISH_WORDS
    # "no"/"more"/"in" alone are ambiguous; two different hits, one of them unambiguous, make a sentence
    return len(hits) >= 2 and bool(hits - {"no", "in", "at", "it", "off"})


def catalogue_keys() -> set[str]:
    from xenlab.i18n import CATALOGUES
    return set(CATALOGUES["en"]) | set(CATALOGUES["pl"])


_KEY = re.compile(r"\b(?:viz|ui|cli|grading|sched|check|course)\.[a-z0-9_]+\.[a-z0-9_.]+\b")


def check_report(report: list[dict], lang: str, keys: set[str] | None = None) -> list[str]:
    """Readable findings for one notebook's widget outputs (``inspect_widgets``)."""
    keys = catalogue_keys() if keys is None else keys
    out = []
    for w in report:
        tag = f"widget {w['index']}"
        for f in w["figures"]:
            if f["data"] == 0:
                out.append(f"{tag}: figure {f['title']!r} draws no mark with data")
        for lg in w["legends"]:
            out.append(f"{tag}: the legend of {lg['title']!r} lies over {lg['hits']} drawn marks")
        for a, b in _overlaps(w["texts"])[:5]:
            out.append(f"{tag}: texts overlap: {a[:40]!r} / {b[:40]!r}")
        for c in w["cut"][:5]:
            out.append(f"{tag}: text cut ({c['why']}): {c['text'][:50]!r}")
        for o in w["overflow"][:3]:
            out.append(f"{tag}: wider than the output area ({o['what']} by {o['by']} px"
                       f"{', scrolled' if o.get('scrolled') else ''})")
        seen = set()
        for t in w["texts"]:
            s = t["s"]
            if s in seen:
                continue
            seen.add(s)
            raw = {m for m in _KEY.findall(s) if m in keys or m.startswith("viz.")}
            if raw:
                out.append(f"{tag}: raw catalogue key {sorted(raw)[0]!r}")
            if lang == "pl" and english_sentence(s):
                out.append(f"{tag}: English in a Polish notebook: {s[:70]!r}")
    return out


# --- every control changes the view ------------------------------------------------------------------
_CONTROLS = r"""([sel, index]) => {
  const outs = [...document.querySelectorAll(sel)];
  const out = outs[index]; if (!out) return [];
  const vis = (el) => { const r = el.getBoundingClientRect(); const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none'; };
  const found = [];
  const push = (el, kind, label) => { if (vis(el) && !el.disabled) found.push({kind, label}); };
  out.querySelectorAll('button.jupyter-button, .widget-toggle-buttons button').forEach(b => b.closest('.bqplot') || push(b, 'button', b.textContent.trim() || b.title || b.innerHTML.slice(0, 40)));
  out.querySelectorAll('.widget-slider .noUi-handle').forEach(h => push(h, 'slider', (h.closest('.widget-slider').querySelector('.widget-label') || {}).textContent || ''));
  out.querySelectorAll('.widget-dropdown select').forEach(s => push(s, 'dropdown', (s.closest('.widget-dropdown').querySelector('.widget-label') || {}).textContent || ''));
  out.querySelectorAll('.widget-text input, .widget-textarea textarea').forEach(t => push(t, 'text', (t.closest('.widget-text, .widget-textarea').querySelector('.widget-label') || {}).textContent || ''));
  out.querySelectorAll('.widget-checkbox input').forEach(c => push(c, 'checkbox', (c.closest('.widget-checkbox').textContent || '').trim()));
  return found;
}"""
_SNAP = r"""([sel, index, kind, k]) => {
  const out = [...document.querySelectorAll(sel)][index];
  const clone = out.cloneNode(true);
  // the control's own widget (its readout, its value) does not count as a change of the view
  const pick = {button: 'button.jupyter-button, .widget-toggle-buttons button', slider: '.widget-slider .noUi-handle',
                dropdown: '.widget-dropdown select', text: '.widget-text input, .widget-textarea textarea',
                checkbox: '.widget-checkbox input'}[kind];
  const vis = (el) => { const r = el.getBoundingClientRect(); const s = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && s.visibility !== 'hidden' && s.display !== 'none' && !el.disabled; };
  const all = [...out.querySelectorAll(pick)].filter(vis).filter(e => !e.closest('.bqplot'));
  const orig = all[k];
  if (orig) {
    const path = []; for (let e = orig; e !== out; e = e.parentElement) path.unshift([...e.parentElement.children].indexOf(e));
    let c = clone; for (const i of path) c = c.children[i];
    const own = c.closest('.widget-slider, .widget-dropdown, .widget-text, .widget-textarea, .widget-checkbox') || c;
    own.remove();
  }
  clone.querySelectorAll('.widget-slider .noUi-handle, .widget-readout').forEach(e => e.remove());
  return clone.innerHTML.replace(/ (aria-valuenow|aria-valuetext|style)="[^"]*"/g, '') + '|' + [...out.querySelectorAll('select')].map(s => s.value).join(',');
}"""


def _act(page, index: int, kind: str, k: int) -> None:
    out = page.locator(WIDGET_OUTPUT).nth(index)
    sel = {"button": ":is(button.jupyter-button, .widget-toggle-buttons button):visible:not([disabled]):not(.bqplot *)",
           "slider": ".widget-slider .noUi-handle:visible", "dropdown": ".widget-dropdown select:visible:not([disabled])",
           "text": ":is(.widget-text input, .widget-textarea textarea):visible:not([disabled])",
           "checkbox": ".widget-checkbox input:visible:not([disabled])"}[kind]
    loc = out.locator(sel).nth(k)
    loc.scroll_into_view_if_needed()
    if kind == "button":
        loc.click()
    elif kind == "slider":
        loc.focus()
        loc.press("ArrowRight")
        loc.press("ArrowRight")
    elif kind == "dropdown":
        values = loc.evaluate("s => [...s.options].map(o => o.value)")
        current = loc.evaluate("s => s.value")
        i = values.index(current) if current in values else 0
        loc.select_option(values[(i + 1) % len(values)])
    elif kind == "text" and loc.get_attribute("type") == "number":
        loc.focus()                             # a number box: one step up, then Enter
        loc.press("ArrowUp")
        loc.press("Enter")
        loc.evaluate("e => e.blur()")
    elif kind == "text":
        loc.fill("zzz")                         # not valid anywhere: the view must say so
        loc.press("Enter")
    elif kind == "checkbox":
        loc.click()


_IDLE = """() => { const w = window.__xen_nb; const k = w && w.sessionContext.session && w.sessionContext.session.kernel;
  return !k || k.status === 'idle'; }"""


def wait_idle(page, timeout_ms: int = 30_000) -> None:
    """Until the notebook's kernel is idle (it is busy while a widget callback runs)."""
    import time
    time.sleep(0.05)
    page.wait_for_function(_IDLE, timeout=timeout_ms, polling=25)


def exercise_controls(page, index: int, quiet_ms: int = 350, limit: int = 40,
                      skip=lambda control: False) -> tuple[list[dict], list[dict]]:
    """Use every visible control of widget output ``index`` once; returns (used, unchanged).

    Each control gets one action (a click, two ArrowRight presses on a slider handle, the next option
    of a dropdown, an invalid text and Enter); the view is compared before and after without the
    control itself. A control that changed nothing is tried once more after all the others (a reset
    button changes nothing before something was done)."""
    from tests.browser.labserver import wait_quiet
    root = f"document.querySelectorAll('{WIDGET_OUTPUT}')[{index}]"
    used, unchanged = [], []

    def one(kind, k, label):
        before = page.evaluate(_SNAP, [WIDGET_OUTPUT, index, kind, k])
        try:
            _act(page, index, kind, k)
        except Exception:                       # the control was redrawn under the cursor: once more
            wait_idle(page)
            _act(page, index, kind, k)
        wait_idle(page)                         # the kernel has answered (a re-simulation can take 1 s)
        wait_quiet(page, root, quiet_ms=quiet_ms, max_ms=15_000)
        after = page.evaluate(_SNAP, [WIDGET_OUTPUT, index, kind, k])
        return before != after

    i = 0
    while i < limit:
        controls = page.evaluate(_CONTROLS, [WIDGET_OUTPUT, index])
        if i >= len(controls):
            break
        c = controls[i]
        k = sum(1 for x in controls[:i] if x["kind"] == c["kind"])
        i += 1
        if skip(c):
            continue
        changed = one(c["kind"], k, c["label"])
        used.append({**c, "k": k, "changed": changed})
        if not changed:
            unchanged.append({**c, "k": k})
    still = []
    for c in unchanged:
        controls = page.evaluate(_CONTROLS, [WIDGET_OUTPUT, index])
        same = [j for j, x in enumerate(controls) if x["kind"] == c["kind"] and x["label"] == c["label"]]
        if not same:
            continue
        k = sum(1 for x in controls[:same[0]] if x["kind"] == c["kind"])
        if not one(c["kind"], k, c["label"]):
            still.append(c)
    return used, still
