"""The course for a class on one server: JupyterHub helpers (the config itself is xenlab/hub_config.py).

- `prepare_home(home, lang)`: each student's own copy of the course under ~/xenlab-course/ (notebooks/<lang>
  and exercises/<lang>), copied file by file on every login and only where the student has no file of
  that name yet, so new chapters arrive and nothing a student changed is ever overwritten (the rule
  nbgitpuller follows for files the user has touched).
- `pre_spawn_hook(spawner)`: the hub calls it before starting a student's server.
- `collect(homes, dest)`: the instructor gathers every student's exercise notebooks into
  dest/<student>/, the layout `xenlab grade` reads.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent.parent
COURSE_DIRS = ("notebooks", "exercises")
# Not "xenlab": a folder of that name in a kernel's working directory would shadow the package
# (a namespace package found before the installed one), and `import xenlab` would break.
COURSE_FOLDER = "xenlab-course"


def course_root() -> Path:
    root = Path(os.environ.get("XENLAB_COURSE_DIR") or PACKAGE_ROOT)
    if not (root / "notebooks").is_dir():
        raise FileNotFoundError(f"no course (notebooks/) in {root}; set XENLAB_COURSE_DIR")
    return root


def prepare_home(home, lang: str = "pl", root: Path | None = None, uid: int | None = None,
                 gid: int | None = None) -> list[Path]:
    """Copy the course into home/xenlab-course/ without overwriting anything; returns the files copied."""
    root = Path(root or course_root())
    base = Path(home) / COURSE_FOLDER
    copied = []
    for tree in COURSE_DIRS:
        src_dir = root / tree / lang
        for src in sorted(src_dir.glob("*.ipynb")):
            dst = base / tree / lang / src.name
            if dst.exists() or dst.is_symlink():
                continue                         # the student's copy, changed or not, stays
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dst)
            copied.append(dst)
    if uid is not None:
        for p in [base, *base.rglob("*")]:
            try:
                os.chown(p, uid, gid if gid is not None else -1, follow_symlinks=False)
            except OSError:
                pass
    return copied


def pre_spawn_hook(spawner) -> None:
    """JupyterHub's Spawner.pre_spawn_hook: give the user their course copy (as their own files)."""
    lang = os.environ.get("XENLAB_HUB_LANG", "pl")
    home = getattr(spawner, "home_dir", None)
    uid = gid = None
    if not home:
        import pwd
        entry = pwd.getpwnam(spawner.user.name)
        home, uid, gid = entry.pw_dir, entry.pw_uid, entry.pw_gid
    Path(home).mkdir(parents=True, exist_ok=True)
    prepare_home(home, lang, uid=uid, gid=gid)


def collect(homes, dest, *, lang: str | None = None, users=None) -> dict[str, list[Path]]:
    """dest/<user>/<exercise notebooks> from each <homes>/<user>/xenlab-course/exercises/<lang>/ (both
    languages unless `lang`). `homes` is the folder of home directories (e.g. /home)."""
    homes, dest = Path(homes), Path(dest)
    got: dict[str, list[Path]] = {}
    for home in sorted(p for p in homes.iterdir() if p.is_dir()):
        user = home.name
        if users and user not in users:
            continue
        langs = [lang] if lang else ["pl", "en"]
        for lg in langs:
            for nb in sorted((home / COURSE_FOLDER / "exercises" / lg).glob("ex*.ipynb")):
                if nb.is_symlink() or not nb.is_file():
                    continue
                out = dest / user / nb.name
                out.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(nb, out)
                got.setdefault(user, []).append(out)
    return got
