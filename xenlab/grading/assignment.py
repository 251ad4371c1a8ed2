"""The instructor's assignment file: which exercises count, and the limits submissions run under.

A small TOML (or JSON) file, e.g. `assignment.toml`:

    name = "lab-3"
    exercises = ["ex01", "ex09"]

    [limits]                 # all optional
    cell_timeout = 30        # seconds per notebook cell
    notebook_timeout = 120   # seconds for the whole notebook (the checks have their own limits)
    timeout_scale = 1.0      # multiplies every check's limit
    memory_mb = 1024         # address space of the submission's processes
    cpu_s = 300              # CPU seconds
    fsize_mb = 64            # largest file a submission may write

    [sandbox]                # all optional
    uid = 65534              # the unprivileged user submissions run as when grading as root
    gid = 65534
    hide = ["/srv/course/keys"]   # more paths submissions must not see

The list of exercises (and so every student's maximum) comes from here only, never from what students
hand in: a notebook for an exercise that is not listed is reported on that student's row and not graded.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from xenlab.grading.registry import all_exercises


@dataclass
class Assignment:
    name: str
    exercises: list
    cell_timeout: float = 30.0
    notebook_timeout: float = 120.0
    timeout_scale: float = 1.0
    memory_mb: int = 1024
    cpu_s: int = 300
    fsize_mb: int = 64
    uid: int = 65534
    gid: int = 65534
    hide: list = field(default_factory=list)

    def __post_init__(self):
        known = all_exercises()
        bad = [e for e in self.exercises if e not in known]
        if bad or not self.exercises:
            raise ValueError(f"assignment {self.name!r}: unknown exercises {bad} (known: {', '.join(known)})"
                             if bad else f"assignment {self.name!r} lists no exercises")
        self.exercises = list(dict.fromkeys(self.exercises))

    @property
    def max_points(self) -> int:
        known = all_exercises()
        return sum(known[e].max_points for e in self.exercises)

    def limits(self) -> dict:
        return {"mem_mb": self.memory_mb, "cpu_s": self.cpu_s, "fsize_mb": self.fsize_mb}

    def fingerprint(self) -> str:
        """What a stored grade depends on besides the notebook: resume regrades when this changes."""
        text = json.dumps([self.exercises, self.cell_timeout, self.notebook_timeout, self.timeout_scale,
                           self.memory_mb, self.cpu_s, self.fsize_mb], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def load(path) -> Assignment:
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        data = json.loads(text)
    else:
        import tomllib
        data = tomllib.loads(text)
    limits = data.get("limits", {})
    sandbox = data.get("sandbox", {})
    return Assignment(name=str(data.get("name", path.stem)), exercises=[str(e) for e in data.get("exercises", [])],
                      **{k: limits[k] for k in ("cell_timeout", "notebook_timeout", "timeout_scale", "memory_mb",
                                                "cpu_s", "fsize_mb") if k in limits},
                      **{k: sandbox[k] for k in ("uid", "gid", "hide") if k in sandbox})
