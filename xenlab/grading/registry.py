"""The check registry: exercises, their checks, and the helpers a check is written with.

An exercise module in xenlab/grading/checks/ declares its exercise and checks:

    from xenlab.grading.registry import exercise, fail, expect

    EX = exercise("ex01", chapter=1, functions=("xm_state_string", "hypercall_allowed"),
                  title={"pl": "Stany domeny", "en": "Domain states"})

    @EX.check(points=2, function="xm_state_string",
              title={"pl": "domena działająca", "en": "a running domain"})
    def running(ctx):
        got = ctx.fn("xm_state_string")(True, False, False, False, False, False)
        expect(got == "r-----", pl="...", en="...")

A check is plain Python. It passes when it returns, fails when it raises `CheckFailed` (through `fail`
or `expect`, with a message in both languages), and is an error for any other exception. Hidden checks
(`hidden=True`) are not run by `xenlab.check()` in the notebook, only by `xenlab grade`. `ctx.rng` is a
numpy Generator seeded by the student's variant seed, so hidden checks can draw per-student inputs.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from xenlab.i18n import get_language, t

DEFAULT_TIMEOUT_S = 5.0

EXERCISES: dict[str, "Exercise"] = {}


def _text(value, lang: str | None = None) -> str:
    """A bilingual text ({'pl': ..., 'en': ...}) or a plain string, in the current language."""
    if isinstance(value, dict):
        lang = lang or get_language()
        return value.get(lang) or value.get("en") or next(iter(value.values()))
    return str(value)


class CheckFailed(AssertionError):
    """A check's verdict "wrong answer", carrying a message for the student in both languages."""

    def __init__(self, message):
        self.message = message
        super().__init__(_text(message, "en"))

    def text(self, lang: str | None = None) -> str:
        return _text(self.message, lang)


def fail(text: str | None = None, *, pl: str | None = None, en: str | None = None):
    """Fail the running check with a message for the student (give pl= and en=, or one text)."""
    raise CheckFailed({"pl": pl or text or en, "en": en or text or pl} if (pl or en) else text)


def expect(condition, text: str | None = None, *, pl: str | None = None, en: str | None = None):
    """Fail the running check with the message unless condition is true."""
    if not condition:
        fail(text, pl=pl, en=en)


def variant_seed(student: str, exercise_id: str) -> int:
    """The per-student variant seed: the first 4 bytes of sha256(student NUL exercise), big-endian."""
    digest = hashlib.sha256(f"{student}\0{exercise_id}".encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big")


@dataclass
class Check:
    exercise: str
    name: str
    fn: Callable
    points: int
    function: str | None
    hidden: bool
    timeout_s: float
    title: object

    def title_text(self, lang: str | None = None) -> str:
        return _text(self.title, lang) if self.title else self.name.replace("_", " ")


@dataclass
class Exercise:
    id: str
    chapter: int
    functions: tuple
    title: object
    checks: list = field(default_factory=list)

    def check(self, points: int = 1, *, function: str | None = None, hidden: bool = False,
              timeout: float = DEFAULT_TIMEOUT_S, title=None):
        """Decorator: register fn(ctx) as a check of this exercise worth `points`."""
        if function is not None and function not in self.functions:
            raise ValueError(f"{self.id}: check on unknown function {function!r}")

        def register(fn):
            names = [c.name for c in self.checks]
            if fn.__name__ in names:
                raise ValueError(f"{self.id}: two checks named {fn.__name__!r}")
            self.checks.append(Check(self.id, fn.__name__, fn, int(points), function, bool(hidden),
                                     float(timeout), title))
            return fn
        return register

    def title_text(self, lang: str | None = None) -> str:
        return _text(self.title, lang)

    @property
    def max_points(self) -> int:
        return sum(c.points for c in self.checks)

    def points_for(self, function: str) -> int:
        return sum(c.points for c in self.checks if c.function == function)


def exercise(exercise_id: str, *, chapter: int, functions, title) -> Exercise:
    """Declare an exercise (once, in its checks module) and return it for `@EX.check(...)`."""
    if exercise_id in EXERCISES:
        return EXERCISES[exercise_id]
    ex = Exercise(exercise_id, int(chapter), tuple(functions), title)
    EXERCISES[exercise_id] = ex
    return ex


def get_exercise(exercise_id: str) -> Exercise:
    """The registered exercise, importing the checks package first."""
    import xenlab.grading.checks  # noqa: F401  (registers every exercise)
    try:
        return EXERCISES[exercise_id]
    except KeyError:
        known = ", ".join(sorted(EXERCISES)) or "-"
        raise KeyError(t("check.unknown_exercise", exercise=exercise_id, known=known)) from None


def all_exercises() -> dict[str, Exercise]:
    import xenlab.grading.checks  # noqa: F401
    return dict(sorted(EXERCISES.items()))


class Context:
    """What a check sees: the student's namespace, the variant rng, the exercise."""

    def __init__(self, exercise: Exercise, namespace: dict, seed: int):
        self.exercise = exercise
        self.ns = namespace
        self.seed = seed
        self.rng = np.random.default_rng(seed)

    def fn(self, name: str):
        """The student's function `name`, wrapped so NotImplementedError reads as "not written yet"."""
        obj = self.ns.get(name)
        if obj is None:
            raise CheckFailed({lang: t("check.missing_function", lang, name=name) for lang in ("pl", "en")})
        if not callable(obj):
            raise CheckFailed({lang: t("check.not_callable", lang, name=name) for lang in ("pl", "en")})

        def call(*args, **kwargs):
            try:
                return obj(*args, **kwargs)
            except NotImplementedError:
                raise CheckFailed({lang: t("check.not_implemented", lang, name=name)
                                   for lang in ("pl", "en")}) from None
        call.__name__ = name
        return call
