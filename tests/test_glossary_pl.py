"""Polish text uses the glossary's terms (../shared/reference/glossary-pl-en.md): "część zaplecza", not a
bare "backend"; "hiperwywołanie", not "hypercall" ...

The glossary allows the English word once, as an introduction next to the Polish term: "część zaplecza
(backend)", "(ang. *backend*)". Code (`...` spans, identifiers such as `netback`, XenStore paths) is not
prose and is skipped. What is scanned: the Polish Markdown cells and Polish outputs of the course sources
in POLISH_SOURCES, and the Polish messages of the catalogue areas in POLISH_MESSAGES. To cover more,
add a source name or a (module, key prefix) pair there.
"""
from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from xenlab.coursebuild import parse

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
}

# Lecture sources whose Polish text is checked (chapters 08-14; add others as they are cleaned up: when this
# was written, 07 said "wymienny scheduler" outside a quotation and ex09, ex10, ex10b and the viz.ex09.*
# messages said "backend").
POLISH_SOURCES = ["08_time", "09_rings", "10_block_devices", "11_network", "12_performance",
                  "13_domain_management", "14_migration"]

# (catalogue module under xenlab.i18n.catalogues, key prefix): Polish messages checked.
POLISH_MESSAGES = [("narration", ""), ("learn_08_14", ""), ("viz_io", "viz.ring.")]

INLINE_CODE = re.compile(r"`[^`\n]*`")
QUOTATION = re.compile(r"„[^”\n]*”")          # a quotation (the lecture's own words) is quoted as it is
# The allowed introduction: the English word right after "(" or "ang." (optionally in *italics*).
INTRODUCED = re.compile(r"(\(|\bang\.\s*)\*?$")


def violations(text: str) -> list[str]:
    """Each use of an English term in Polish prose that is not an introduction, with its context."""
    prose = INLINE_CODE.sub(lambda m: " " * len(m.group()), text)
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


@pytest.mark.parametrize("name", POLISH_SOURCES)
def test_polish_cells_use_the_glossary(name):
    found = [f"{name}.md:{b.line}: {v}" for b in polish_blocks(name) for v in violations(b.text)]
    assert not found, "\n".join(found)


@pytest.mark.parametrize("module, prefix", POLISH_MESSAGES)
def test_polish_messages_use_the_glossary(module, prefix):
    try:
        mod = importlib.import_module(f"xenlab.i18n.catalogues.{module}")
    except ModuleNotFoundError:
        pytest.skip(f"no catalogue {module} in this checkout")
    found = []
    for key, value in mod.PL.items():
        if not key.startswith(prefix):
            continue
        for text in (value.values() if isinstance(value, dict) else [value]):
            found += [f"{key}: {v}" for v in violations(text)]
    assert not found, "\n".join(found)
