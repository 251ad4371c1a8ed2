"""Run the Polish notebooks and list the English they print (the check tests/notebooks makes, as a report).

    PYTHONPATH=$PWD python tools/english_outputs.py                 # every notebook in notebooks/pl, exercises/pl, solutions/pl
    PYTHONPATH=$PWD python tools/english_outputs.py 03_seg ex14     # those whose name contains a word given
    PYTHONPATH=$PWD python tools/english_outputs.py --saved DIR     # scan executed copies saved earlier with --save DIR

Each notebook runs in a fresh kernel exactly as the tests run it; every text output and every widget's
text is scanned by xenlab.i18n.english (what stays English, because Xen prints it so, is listed there
with the reason). Prints one line per English line found and a count per notebook; exit status 1 if any
notebook outside PENDING has English.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import nbformat  # noqa: E402

from xenlab.i18n.english import PENDING, notebook_english  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="only notebooks whose file name contains one of these")
    parser.add_argument("--save", type=Path, help="also write the executed notebooks under this folder")
    parser.add_argument("--saved", type=Path, help="scan executed notebooks saved earlier instead of running")
    args = parser.parse_args(argv)
    if args.saved:
        paths = sorted(args.saved.glob("*/*.ipynb"))
    else:
        paths = sorted(p for tree in ("notebooks", "exercises", "solutions") for p in (ROOT / tree / "pl").glob("*.ipynb"))
    paths = [p for p in paths if not args.names or any(n in p.name for n in args.names)]
    bad = 0
    for path in paths:
        tree = path.parent.name if args.saved else path.parent.parent.name
        if args.saved:
            nb = nbformat.read(str(path), as_version=4)
        else:
            from tests.notebooks.test_notebooks import execute      # the tests' own runner
            nb, _ = execute(path)
            if args.save:
                (args.save / tree).mkdir(parents=True, exist_ok=True)
                nbformat.write(nb, str(args.save / tree / path.name))
        hits = notebook_english(nb, path.name)
        pending = f"  (pending: {PENDING[path.name]})" if path.name in PENDING else ""
        print(f"{tree}/{path.name}: {len(hits)}{pending}")
        for h in hits:
            print("    " + h)
        bad += bool(hits) and not pending
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
