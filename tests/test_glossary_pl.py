"""Polish text uses the glossary's terms (../shared/reference/glossary-pl-en.md): "część zaplecza", not a
bare "backend"; "hiperwywołanie", not "hypercall" ...

The glossary allows the English word once, as an introduction next to the Polish term: "część zaplecza
(backend)", "(ang. *backend*)". Code (`...` spans, identifiers such as `netback`, XenStore paths, a
message's `{placeholders}`) is not prose and is skipped, and so is a quotation of the lecture („...”).
What is scanned: the Polish Markdown cells and Polish outputs of every course source (lectures 00-14 and
every exercise, so notebooks/pl, exercises/pl and solutions/pl, which are built from them), the Markdown
and stored outputs of the built Polish notebooks themselves, and the Polish messages of every catalogue
(xenlab/i18n/pl.py and every area in xenlab/i18n/catalogues, viz.* included). The executed Polish
notebooks' whole output is checked for English (bare "backend" included) by tests/notebooks.
"""
from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import nbformat
import pytest

from xenlab.coursebuild import parse, visible_text
from xenlab.i18n.english import PENDING

ROOT = Path(__file__).resolve().parents[1]

# English term (a regex, matched as a whole word, any case) -> the glossary's Polish term.
RULES = {
    r"back[- ]?ends?": "część zaplecza",
    r"front[- ]?ends?": "część frontowa",
    r"hypercalls?": "hiperwywołanie",
    r"ring buffers?": "bufor cykliczny",
    r"event channels?": "kanał zdarzeń",
    r"schedulers?": "planista",
    r"grant tables?": "tablica uprawnień",
    r"grant references?": "odnośnik uprawnienia",
    r"downtime": "czas przestoju",
    r"live migration": "migracja na żywo",
    r"page faults?": "błąd strony",
    r"bridge": "most",
    r"wall[- ]clock": "czas zegarowy",
    r"hypervisors?": "hiperwizor",
    r"paravirtuali[sz]ation": "parawirtualizacja",
    r"virtual machine monitors?": "monitor maszyn wirtualnych",
    r"balloon drivers?": "sterownik balonowy",
    r"split drivers?": "sterownik dzielony",
    r"shared memory": "pamięć współdzielona",
    r"time slices?": "kwant czasu",
    r"system calls?": "wywołanie systemowe",
    r"request queues?": "kolejka żądań",
    r"notifications?": "powiadomienie",
    r"interrupts?": "przerwanie",
    r"exceptions?": "wyjątek",
    r"producers?": "producent",
    r"consumers?": "konsument",
}

# Every course source: lectures and exercises (07 once said "wymienny scheduler" outside a quotation, and
# ex09, ex10, ex10b and the viz.ex09.* messages said "backend").
POLISH_SOURCES = sorted(p.stem for p in (ROOT / "course").glob("*.md"))

# Every catalogue: the core one (xenlab/i18n/pl.py, "pl") and every area module (catalogues/*.py).
POLISH_MESSAGES = ["pl"] + sorted(m.name for m in pkgutil.iter_modules(
    [str(ROOT / "xenlab" / "i18n" / "catalogues")]) if not m.ispkg)

# The built Polish notebooks (their Markdown and stored outputs), in case a tree was not rebuilt.
# (Not those whose output is still English: xenlab/i18n/english.py PENDING says why.)
POLISH_NOTEBOOKS = sorted(p for tree in ("notebooks", "exercises", "solutions") for p in (ROOT / tree / "pl").glob("*.ipynb")
                          if p.name not in PENDING)

INLINE_CODE = re.compile(r"`[^`\n]*`")
PLACEHOLDER = re.compile(r"\{[^{}\n]*\}")   # a message's {placeholder}
PY_STRING = re.compile(r"'[\w .:/-]*'")      # a string in a printed Python value: ['page_fault', 'hypercall']
QUOTATION = re.compile(r"„[^”\n]*”")          # a quotation (the lecture's own words) is quoted as it is
# The allowed introduction: the English word right after "(" or "ang." (optionally in *italics*).
INTRODUCED = re.compile(r"(\(|\bang\.\s*)\*?$")


def violations(text: str) -> list[str]:
    """Each use of an English term in Polish prose that is not an introduction, with its context."""
    prose = INLINE_CODE.sub(lambda m: " " * len(m.group()), text)
    prose = PLACEHOLDER.sub(lambda m: "·" * len(m.group()), prose)      # not spaces: "    " starts a code block
    prose = PY_STRING.sub(lambda m: "·" * len(m.group()), prose)
    prose = QUOTATION.sub(lambda m: " " * len(m.group()), prose)
    prose = "\n".join(" " * len(ln) if ln.startswith("    ") else ln for ln in prose.split("\n"))  # code blocks
    found = []
    for english, polish in RULES.items():
        for m in re.finditer(rf"(?<![\w/.-]){english}(?![\w/-])", prose, flags=re.IGNORECASE):
            if INTRODUCED.search(prose[max(0, m.start() - 6):m.start()]):
                continue
            context = prose[max(0, m.start() - 30):m.end() + 30].replace("\n", " ")
            found.append(f"{m.group()!r} (glossary: {polish!r}) in ...{context}...")
    return found


def polish_blocks(name: str):
    src = parse(ROOT / "course" / f"{name}.md")
    for b in src.blocks:
        if b.kind == "pl" or (b.kind in ("output", "result") and "pl" in b.options):
            yield b


def test_the_scanner_finds_bare_terms_and_allows_introductions():
    assert violations("część zaplecza (backend) w dom0; `blkback` i `/local/domain/0/backend/vbd`") == []
    assert violations("drugą stroną (ang. *backend*) i część frontowa (frontend)") == []
    assert violations("    print(backend)  # kod") == []
    assert violations("Na wykładzie: „wymienny scheduler”.") == []
    bad = violations("backend pobiera żądanie, a potem robi hypercall przez event channel")
    assert len(bad) == 3 and "część zaplecza" in bad[0] and "hiperwywołanie" in bad[1]
    assert len(violations("Backend: pobierz; gość->backend")) == 2
    assert violations("most {bridge!r} nie istnieje") == []                    # a placeholder is code
    assert violations("pv : ['page_fault', 'hypercall']") == []                  # so is a printed Python value
    assert len(violations("{who}: zdarzenia gość->backend wysłane {sent}")) == 1


def output_prose(text: str) -> str:
    """An output's text without what a Polish notebook prints verbatim (xenlab/i18n/english.py VERBATIM: Xen's
    and its tools' lines, the paper's table labels such as lmbench's "page fault" row): not the course's words."""
    from xenlab.i18n.english import VERBATIM, _blank
    return _blank(text, VERBATIM)


@pytest.mark.parametrize("name", POLISH_SOURCES)
def test_polish_cells_use_the_glossary(name):
    found = [f"{name}.md:{b.line}: {v}" for b in polish_blocks(name)
             for v in violations(output_prose(b.text) if b.kind != "pl" else b.text)]
    assert not found, "\n".join(found)


def test_every_source_and_catalogue_is_scanned():
    names = set(POLISH_SOURCES)
    assert {"07_scheduling", "ex09_front_ring", "ex10_blkback", "ex10b_grant_map"} <= names
    assert {"pl", "viz_io", "viz_cpu", "viz_memory", "exercises", "learn"} <= set(POLISH_MESSAGES)
    assert {p.parent.parent.name for p in POLISH_NOTEBOOKS} == {"notebooks", "exercises", "solutions"}


@pytest.mark.parametrize("module", POLISH_MESSAGES)
def test_polish_messages_use_the_glossary(module):
    if module == "pl":
        messages = importlib.import_module("xenlab.i18n.pl").MESSAGES
    else:
        messages = importlib.import_module(f"xenlab.i18n.catalogues.{module}").PL
    found = []
    for key, value in messages.items():
        for text in (value.values() if isinstance(value, dict) else [value]):
            found += [f"{key}: {v}" for v in violations(text)]
    assert not found, "\n".join(found)


@pytest.mark.parametrize("path", POLISH_NOTEBOOKS, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_built_polish_notebooks_use_the_glossary(path):
    nb = nbformat.read(str(path), as_version=4)
    found = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            texts = [cell.source]
        else:
            texts = [output_prose(visible_text([o])) for o in cell.get("outputs", [])]
        found += [f"cell {i + 1}: {v}" for text in texts for v in violations(text)]
    assert not found, "\n".join(found)
