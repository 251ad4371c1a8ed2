"""Build the course notebooks from their bilingual sources in course/.

One source file per notebook, `course/<name>.md`, holds both languages and one copy of every code cell:

    ::: meta
    kind: lecture                # or: exercise (then also `exercise: ex01`)
    :::

    ::: pl
    # 1. Wprowadzenie            <- a Markdown cell of the Polish notebook
    :::
    ::: en
    # 1. Introduction            <- its English twin (pl and en blocks come in adjacent pairs)
    :::

    ::: code
    import xenlab                # <- a code cell, the same in both notebooks
    :::

    ::: code check               <- compared when tested (tag nbval-check-output) ...
    print(1 + 1)
    :::
    ::: output                   <- ... against this expected stdout (or `::: result` for the
    2                               text/plain of the cell's value)
    :::

Code options after `code`: `check` (compare the output), `raises` (the cell is expected to raise:
tag raises-exception), `hide` (tag hide-output for widget cells), `predict` (a predict-then-reveal
cell, `xenlab.predict(...)`) and `quiz` (the chapter's self-check, `xenlab.quiz(...)`), tagged so that
tools and tests find them. A checked cell whose output differs by language (the model speaks through
the catalogues) is followed by `::: output pl` and `::: output en` (or `result pl`/`result en`) instead
of one shared block: each language's notebook then compares its own output. A `::: toc` block expands into the
chapter list, with links to the notebooks that exist and "coming" for the rest.

Lecture sources become notebooks/pl/<name>.ipynb and notebooks/en/<name>.ipynb. Exercise sources become
solutions/{pl,en}/<name>.ipynb (the master) and exercises/{pl,en}/<name>.ipynb, where every region
between `# BEGIN SOLUTION` and `# END SOLUTION` inside a function is replaced by
`raise NotImplementedError("exercise <id>: write <function>()")`.

    python -m xenlab.coursebuild            # rebuild everything
    python -m xenlab.coursebuild --check    # exit 1 and list the files that are out of date
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

LANGS = ("pl", "en")
ROOT = Path(__file__).resolve().parent.parent

# The lecture's order (DESIGN.md). Notebook file names start with the number.
CHAPTERS = [
    ("00", {"pl": "Spis treści", "en": "Contents"}),
    ("01", {"pl": "Wprowadzenie: monitor maszyn wirtualnych, dom0 i domU, parawirtualizacja",
            "en": "Introduction: the virtual machine monitor, dom0 and domU, paravirtualisation"}),
    ("02", {"pl": "Architektura Xena", "en": "Xen's architecture"}),
    ("03", {"pl": "Pamięć: segmentacja", "en": "Memory: segmentation"}),
    ("04", {"pl": "Pamięć: stronicowanie, weryfikowane aktualizacje, P2M/M2P, PAE",
            "en": "Memory: paging, validated updates, P2M/M2P, PAE"}),
    ("05", {"pl": "Procesor: pierścienie ochrony, pułapki i hiperwywołania",
            "en": "CPU: rings, traps and hypercalls"}),
    ("06", {"pl": "Zdarzenia zamiast przerwań", "en": "Events instead of interrupts"}),
    ("07", {"pl": "Szeregowanie domen", "en": "Scheduling"}),
    ("08", {"pl": "Czas", "en": "Time"}),
    ("09", {"pl": "Wejście/wyjście: bufory cykliczne deskryptorów", "en": "I/O: descriptor rings"}),
    ("10", {"pl": "Wirtualne urządzenia blokowe", "en": "Virtual block devices"}),
    ("11", {"pl": "Wirtualne interfejsy sieciowe", "en": "Virtual network interfaces"}),
    ("12", {"pl": "Względna wydajność (L, X, V, U)", "en": "Relative performance (L, X, V, U)"}),
    ("13", {"pl": "Zarządzanie domenami (xm, konsola, xentop)",
            "en": "Domain management (xm, console, xentop)"}),
    ("14", {"pl": "Zachowanie, odtworzenie i migracja na żywo",
            "en": "Save, restore and live migration"}),
]
TOC_WORDS = {
    "pl": {"coming": "w przygotowaniu", "lectures": "Wykład", "exercises": "Zadania",
           "exercise_of": "do rozdziału"},
    "en": {"coming": "coming", "lectures": "Lecture", "exercises": "Exercises",
           "exercise_of": "for chapter"},
}

FENCE = re.compile(r"^::: ?([a-z]+)((?:\s+[a-z-]+)*)\s*$")
BEGIN, END = "# BEGIN SOLUTION", "# END SOLUTION"
CODE_OPTIONS = {"check": "nbval-check-output", "raises": "raises-exception", "hide": "hide-output",
                "predict": "predict", "quiz": "quiz"}


class SourceError(ValueError):
    """A course source that cannot be built; the message names the file and line."""


@dataclass
class Block:
    kind: str
    options: list
    text: str
    line: int


@dataclass
class Source:
    path: Path
    meta: dict
    blocks: list = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def kind(self) -> str:
        return self.meta.get("kind", "lecture")


def parse(path: Path) -> Source:
    """Split a source file into blocks; check that the pl/en Markdown cells come in pairs."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    blocks, i = [], 0
    while i < len(lines):
        line = lines[i]
        if not line.strip() or line.startswith("<!--"):
            i += 1
            continue
        m = FENCE.match(line)
        if not m or m.group(1) == "":
            raise SourceError(f"{path}:{i + 1}: expected '::: pl|en|code|output|result|meta|toc', got {line!r}")
        kind, options, start = m.group(1), m.group(2).split(), i + 1
        body = []
        i += 1
        while i < len(lines) and lines[i] != ":::":
            body.append(lines[i])
            i += 1
        if i == len(lines):
            raise SourceError(f"{path}:{start}: block '{kind}' is not closed with ':::'")
        i += 1
        blocks.append(Block(kind, options, "\n".join(body).strip("\n"), start))
    if not blocks or blocks[0].kind != "meta":
        raise SourceError(f"{path}: the first block must be '::: meta'")
    meta = {}
    for ln in blocks[0].text.splitlines():
        key, _, value = ln.partition(":")
        meta[key.strip()] = value.strip()
    src = Source(Path(path), meta, blocks[1:])
    _validate(src)
    return src


def _validate(src: Source) -> None:
    blocks = src.blocks
    known = {"pl", "en", "code", "output", "result", "toc"}
    i = 0
    while i < len(blocks):
        b = blocks[i]
        where = f"{src.path}:{b.line}"
        if b.kind not in known:
            raise SourceError(f"{where}: unknown block '{b.kind}'")
        if b.kind in LANGS:
            twin = blocks[i + 1] if i + 1 < len(blocks) else None
            if twin is None or twin.kind not in LANGS or twin.kind == b.kind:
                raise SourceError(f"{where}: a '{b.kind}' block must be followed by its translation")
            i += 2
            continue
        if b.kind == "code":
            bad = [o for o in b.options if o not in CODE_OPTIONS]
            if bad:
                raise SourceError(f"{where}: unknown code option(s) {bad}")
            outs = _outputs_after(blocks, i)
            if ("check" in b.options) != bool(outs):
                raise SourceError(f"{where}: a 'code check' block needs an output/result block right "
                                  "after it, and only such blocks may have one")
            langs = [o.options for o in outs]
            if outs and langs != [[]] and sorted(tuple(x) for x in langs) != sorted((lang,) for lang in LANGS):
                raise SourceError(f"{where}: after a 'code check' block give one shared output block, or "
                                  f"one per language ({', '.join('output ' + lang for lang in LANGS)})")
            if len({o.kind for o in outs}) > 1:
                raise SourceError(f"{where}: per-language blocks must be of one kind (output or result)")
            i += 1 + len(outs)
            continue
        if b.kind in ("output", "result"):
            raise SourceError(f"{where}: '{b.kind}' must follow a 'code check' block")
        i += 1


def _outputs_after(blocks: list, i: int) -> list:
    """The output/result blocks right after block i: none, one shared, or one per language."""
    outs = []
    for b in blocks[i + 1:i + 1 + len(LANGS)]:
        if b.kind not in ("output", "result") or (outs and not outs[0].options):
            break
        outs.append(b)
        if not b.options:
            break
    return outs


def _output_for(blocks: list, i: int, lang: str):
    """The output/result block that block i's notebook in `lang` compares against, or None."""
    for b in _outputs_after(blocks, i):
        if not b.options or b.options == [lang]:
            return b
    return None


def _cell_id(name: str, index: int) -> str:
    return hashlib.sha1(f"{name}:{index}".encode()).hexdigest()[:12]


def _lines(text: str) -> list:
    return text.splitlines(keepends=True) if text else []


def _toc(lang: str, root: Path) -> str:
    words = TOC_WORDS[lang]
    sources = {p.stem: p for p in sorted((root / "course").glob("*.md"))}
    out = [f"### {words['lectures']}", ""]
    for number, title in CHAPTERS[1:]:
        names = sorted(n for n in sources if n.startswith(number + "_") or re.match(rf"{number}[a-z]_", n))
        if names:
            links = ", ".join(f"[{n}]({n}.ipynb)" for n in names)
            out.append(f"- **{number}** {title[lang]}: {links}")
        else:
            out.append(f"- **{number}** {title[lang]} ({words['coming']})")
    exercises = [n for n in sources if n.startswith("ex")]
    if exercises:
        out += ["", f"### {words['exercises']}", ""]
        for n in exercises:
            chapter = re.match(r"ex(\d+)", n).group(1)
            out.append(f"- [{n}](../../exercises/{lang}/{n}.ipynb) ({words['exercise_of']} {chapter})")
    return "\n".join(out)


def build_cells(src: Source, lang: str, root: Path = ROOT) -> list:
    """The cells of the notebook in one language (solutions included)."""
    cells = []
    blocks = src.blocks
    for i, b in enumerate(blocks):
        if b.kind == lang:
            cells.append({"cell_type": "markdown", "metadata": {}, "source": b.text})
        elif b.kind == "toc":
            cells.append({"cell_type": "markdown", "metadata": {}, "source": _toc(lang, root)})
        elif b.kind == "code":
            tags = [CODE_OPTIONS[o] for o in b.options]
            cell = {"cell_type": "code", "execution_count": None,
                    "metadata": {"tags": tags} if tags else {}, "outputs": [], "source": b.text}
            nxt = _output_for(blocks, i, lang)
            if nxt is not None and nxt.kind == "output":
                cell["outputs"] = [{"output_type": "stream", "name": "stdout",
                                    "text": _lines(nxt.text + "\n")}]
            elif nxt is not None and nxt.kind == "result":
                cell["outputs"] = [{"output_type": "execute_result", "execution_count": None,
                                    "metadata": {}, "data": {"text/plain": _lines(nxt.text)}}]
            cells.append(cell)
    code_number = 0
    for index, cell in enumerate(cells):
        cell["id"] = _cell_id(f"{src.name}-{lang}", index)
        cell["source"] = _lines(cell["source"])
        if cell["cell_type"] == "code":
            code_number += 1
            if cell["outputs"]:  # nbval compares only cells that look executed
                cell["execution_count"] = code_number
                for out in cell["outputs"]:
                    if out["output_type"] == "execute_result":
                        out["execution_count"] = code_number
    return cells


def strip_solutions(code: str, exercise_id: str) -> str:
    """Replace each solution region of a code cell with a NotImplementedError naming the exercise."""
    out, lines, i = [], code.splitlines(), 0
    while i < len(lines):
        line = lines[i]
        if line.strip() == BEGIN:
            indent = line[: len(line) - len(line.lstrip())]
            func = None
            for prev in reversed(out):
                m = re.match(r"(\s*)def\s+(\w+)\s*\(", prev)
                if m and len(m.group(1)) < len(indent):
                    func = m.group(2)
                    break
            if func is None:
                raise SourceError(f"exercise {exercise_id}: a solution region must be inside a function "
                                  f"(near {line.strip()!r})")
            j = i + 1
            while j < len(lines) and lines[j].strip() != END:
                if lines[j].strip() == BEGIN:
                    raise SourceError(f"exercise {exercise_id}: nested {BEGIN} in {func}()")
                j += 1
            if j == len(lines):
                raise SourceError(f"exercise {exercise_id}: {BEGIN} in {func}() has no {END}")
            out.append(f'{indent}raise NotImplementedError("exercise {exercise_id}: write {func}()")')
            i = j + 1
            continue
        if line.strip() == END:
            raise SourceError(f"exercise {exercise_id}: {END} without {BEGIN}")
        out.append(line)
        i += 1
    return "\n".join(out) + ("\n" if code.endswith("\n") else "")


def exercise_meta(src: Source) -> dict:
    """An exercise's `chapters: 4, 2`, `level: 1-3` and `minutes: N` meta lines as notebook metadata."""
    out = {}
    try:
        if "chapters" in src.meta:
            out["chapters"] = [int(c) for c in src.meta["chapters"].replace(",", " ").split()]
        if "level" in src.meta:
            out["level"] = int(src.meta["level"])
            if out["level"] not in (1, 2, 3):
                raise ValueError("level must be 1, 2 or 3")
        if "minutes" in src.meta:
            out["minutes"] = int(src.meta["minutes"])
    except ValueError as exc:
        raise SourceError(f"{src.path}: bad exercise meta ({exc})") from None
    return out


def notebook(cells: list, lang: str, src: Source, variant: str) -> dict:
    meta = {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python",
                           "name": "python3"},
            "language_info": {"name": "python"},
            "xenlab": {"lang": lang, "source": f"course/{src.path.name}", "kind": variant}}
    if src.kind == "exercise":
        meta["xenlab"]["exercise"] = src.meta["exercise"]
        meta["xenlab"].update(exercise_meta(src))
    return {"cells": cells, "metadata": meta, "nbformat": 4, "nbformat_minor": 5}


def dumps(nb: dict) -> str:
    return json.dumps(nb, indent=1, ensure_ascii=False, sort_keys=True) + "\n"


def outputs_for(src: Source, root: Path = ROOT) -> dict:
    """{target path: notebook text} for one source."""
    result = {}
    for lang in LANGS:
        cells = build_cells(src, lang, root)
        if src.kind == "lecture":
            result[root / "notebooks" / lang / f"{src.name}.ipynb"] = dumps(notebook(cells, lang, src, "lecture"))
        elif src.kind == "exercise":
            ex_id = src.meta.get("exercise")
            if not ex_id:
                raise SourceError(f"{src.path}: an exercise source needs 'exercise: exNN' in its meta block")
            result[root / "solutions" / lang / f"{src.name}.ipynb"] = dumps(notebook(cells, lang, src, "solution"))
            stubbed = []
            for cell in cells:
                cell = dict(cell)
                if cell["cell_type"] == "code":
                    cell["source"] = _lines(strip_solutions("".join(cell["source"]), ex_id))
                stubbed.append(cell)
            result[root / "exercises" / lang / f"{src.name}.ipynb"] = dumps(notebook(stubbed, lang, src, "exercise"))
        else:
            raise SourceError(f"{src.path}: unknown kind {src.kind!r} (lecture or exercise)")
    return result


def sources(root: Path = ROOT) -> list:
    return [parse(p) for p in sorted((root / "course").glob("*.md"))]


def all_outputs(root: Path = ROOT) -> dict:
    out = {}
    for src in sources(root):
        out.update(outputs_for(src, root))
    return out


def stale(root: Path = ROOT) -> list:
    """Targets whose committed text differs from what the sources produce, plus orphaned notebooks."""
    expected = all_outputs(root)
    bad = [p for p, text in expected.items()
           if not p.exists() or p.read_text(encoding="utf-8") != text]
    for tree in ("notebooks", "solutions", "exercises"):
        for p in sorted((root / tree).glob("*/*.ipynb")):
            if p not in expected:
                bad.append(p)
    return bad


def build(root: Path = ROOT) -> list:
    written = []
    for path, text in all_outputs(root).items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            written.append(path)
    return written


def visible_text(outputs) -> str:
    """What a reader sees as text: streams and text/plain results, in order (also used by the tests)."""
    parts = []
    for out in outputs:
        if out.get("output_type") == "stream":
            parts.append(out.get("text", ""))
        elif out.get("output_type") in ("execute_result", "display_data"):
            parts.append(out.get("data", {}).get("text/plain", "") + "\n")
        elif out.get("output_type") == "error":
            parts.append(f"{out.get('ename')}: {out.get('evalue')}\n")
    return "\n".join(line.rstrip() for line in "".join(parts).rstrip().splitlines())


def update_outputs(root: Path = ROOT, names=None) -> list:
    """Run each source's notebook in a fresh kernel, in Polish and in English, and write what its `check`
    cells print back into the source: one shared `::: output` block where both languages print the same,
    an `output pl` and an `output en` block where they differ (so a cell whose output became Polish gets
    its pair, and a pair that prints the same again is merged). Review the diff: it is the new expected
    output."""
    import asyncio
    import os

    import nbformat
    from nbclient import NotebookClient

    changed = []
    for src in sources(root):
        if names and src.name not in names:
            continue
        checked = [i for i, b in enumerate(src.blocks) if b.kind == "code" and "check" in b.options]
        if not checked:
            continue
        got = {}   # lang -> the check cells' outputs, in order
        for lang in LANGS:
            tree = "notebooks" if src.kind == "lecture" else "solutions"
            target = root / tree / lang / f"{src.name}.ipynb"
            nb = nbformat.reads(dumps(notebook(build_cells(src, lang, root), lang, src, src.kind)), as_version=4)
            for cell in nb.cells:
                if cell.cell_type == "code":
                    cell.outputs = []
            env = {**os.environ, "JPY_SESSION_NAME": str(target)}
            client = NotebookClient(nb, kernel_name="python3", timeout=120, allow_errors=True)
            asyncio.run(client.async_execute(env=env, cwd=str(root)))
            got[lang] = [visible_text(c.outputs) for c in nb.cells
                         if c.cell_type == "code" and "nbval-check-output" in c.metadata.get("tags", [])]
        lines = src.path.read_text(encoding="utf-8").splitlines()
        # Replace the output blocks from the bottom up so earlier line numbers stay valid.
        for n, i in reversed(list(enumerate(checked))):
            outs = _outputs_after(src.blocks, i)
            kind = outs[0].kind
            first = outs[0].line - 1                       # the first output block's fence
            last = outs[-1].line
            while lines[last] != ":::":                    # the last output block's closing line
                last += 1
            texts = {lang: got[lang][n] for lang in LANGS}
            if len(set(texts.values())) == 1:
                new = [f"::: {kind}", *texts[LANGS[0]].splitlines(), ":::"]
            else:
                new = []
                for lang in LANGS:
                    new += [f"::: {kind} {lang}", *texts[lang].splitlines(), ":::"]
            lines[first:last + 1] = new
        text = "\n".join(lines) + "\n"
        if text != src.path.read_text(encoding="utf-8"):
            src.path.write_text(text, encoding="utf-8")
            changed.append(src.path)
    return changed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m xenlab.coursebuild",
                                     description="Build notebooks/, solutions/ and exercises/ from course/.")
    parser.add_argument("--check", action="store_true", help="only report out-of-date files (exit 1 if any)")
    parser.add_argument("--root", type=Path, default=ROOT, help="the course checkout (default: %(default)s)")
    parser.add_argument("--update-outputs", nargs="*", metavar="NAME", default=None,
                        help="run the sources (all, or those named) and write what their check cells "
                             "print into their output blocks, then rebuild")
    args = parser.parse_args(argv)
    try:
        if args.update_outputs is not None:
            for p in update_outputs(args.root, args.update_outputs or None):
                print(f"updated {p.relative_to(args.root)}")
        if args.check:
            bad = stale(args.root)
            for p in bad:
                print(f"out of date: {p.relative_to(args.root)}")
            if bad:
                print("run: python -m xenlab.coursebuild")
            return 1 if bad else 0
        for p in build(args.root):
            print(f"wrote {p.relative_to(args.root)}")
        return 0
    except SourceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
