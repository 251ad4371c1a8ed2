"""Build submission variants from the committed solution notebooks."""
import re
from pathlib import Path

import nbformat

from xenlab.coursebuild import strip_solutions

ROOT = Path(__file__).resolve().parents[2]


def solution_notebooks():
    return sorted((ROOT / "solutions").glob("*/*.ipynb"))


def exercise_notebooks():
    return sorted((ROOT / "exercises").glob("*/*.ipynb"))


def exercise_id(nb) -> str:
    return nb.metadata["xenlab"]["exercise"]


def defines(cell, function: str) -> bool:
    return cell.cell_type == "code" and re.search(rf"^\s*def\s+{function}\s*\(", cell.source, re.M)


def with_function_stubbed(nb, function: str):
    """The solution with only `function`'s solution regions replaced by the exercise stub."""
    nb = nbformat.from_dict(nb)
    hits = 0
    for cell in nb.cells:
        if defines(cell, function):
            cell.source = strip_solutions(cell.source, exercise_id(nb))
            hits += 1
    assert hits == 1, f"{function} should be defined in exactly one cell"
    return nb


def with_function_replaced(nb, function: str, body: str):
    """The solution with `function`'s solution regions replaced by `body` (same indentation)."""
    nb = with_function_stubbed(nb, function)
    for cell in nb.cells:
        if defines(cell, function):
            lines = []
            for line in cell.source.splitlines():
                if "raise NotImplementedError(" in line:
                    indent = line[: len(line) - len(line.lstrip())]
                    lines += [indent + b for b in body.splitlines()]
                else:
                    lines.append(line)
            cell.source = "\n".join(lines)
    return nb


def write(nb, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path
