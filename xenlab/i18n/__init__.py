"""Polish and English strings for everything a student reads outside the notebooks.

Widget labels, check and grader messages and CLI messages come from the two catalogues in this
package (`pl.py`, `en.py`), both plain dicts keyed by dotted names, merged with the per-area modules
in `catalogues/` (a PL and an EN dict each) into one catalogue per language. Polish is the default:
it is the language of the lecture the course follows.

    >>> from xenlab.i18n import set_language, t
    >>> set_language("pl"); t("grading.points", n=22)
    '22 punkty'
    >>> set_language("en"); t("grading.points", n=1)
    '1 point'

A catalogue value is either a format string or a dict of plural forms selected by the keyword `n`:
Polish uses "one" (1), "few" (2-4, 22-24 ... but not 12-14) and "many" (0, 5-21, 25-31 ...);
English uses "one" and "many".

The language in force is, in this order: the last `set_language()` call; the notebook's folder when
the kernel was started by JupyterLab (`.../pl/...` or `.../en/...`, from JPY_SESSION_NAME); the
XENLAB_LANG environment variable (`xenlab lab --lang` sets it); Polish.
"""
from __future__ import annotations

import os

from xenlab.i18n import en as _en
from xenlab.i18n import pl as _pl
from xenlab.i18n.catalogues import AREAS as _AREAS

LANGUAGES = ("pl", "en")
DEFAULT_LANGUAGE = "pl"


def _merge(core: dict, parts) -> dict:
    """The core catalogue with every area's messages added; a key defined twice is a bug."""
    out = dict(core)
    for name, part in parts:
        twice = sorted(part.keys() & out.keys())
        if twice:
            raise ValueError(f"{name} defines messages defined already: {', '.join(twice)}")
        out.update(part)
    return out


CATALOGUES: dict[str, dict] = {
    "pl": _merge(_pl.MESSAGES, [(a.__name__, a.PL) for a in _AREAS]),
    "en": _merge(_en.MESSAGES, [(a.__name__, a.EN) for a in _AREAS]),
}

_explicit: str | None = None


def _from_environment() -> str:
    session = os.environ.get("JPY_SESSION_NAME", "").replace("\\", "/")
    parts = session.split("/")
    for lang in LANGUAGES:
        if lang in parts[:-1]:
            return lang
    env = os.environ.get("XENLAB_LANG", "").strip().lower()
    if env in LANGUAGES:
        return env
    return DEFAULT_LANGUAGE


def set_language(lang: str) -> str:
    """Choose the language of every message xenlab prints: 'pl' (default) or 'en'."""
    global _explicit
    lang = str(lang).strip().lower()
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; choose one of {', '.join(LANGUAGES)}")
    _explicit = lang
    return lang


def get_language() -> str:
    """The language in force ('pl' or 'en')."""
    return _explicit if _explicit is not None else _from_environment()


def plural_form(n: int, lang: str | None = None) -> str:
    """The CLDR plural category of the integer n: 'one', 'few' or 'many'.

    Polish: 1 punkt; 2, 3, 4, 22, 23, 24, 102 punkty; 0, 5-21, 25-31, 112 punktów.
    """
    lang = lang or get_language()
    n = abs(int(n))
    if lang == "pl":
        if n == 1:
            return "one"
        if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
            return "few"
        return "many"
    return "one" if n == 1 else "many"


def t(key: str, lang: str | None = None, **kw) -> str:
    """The message `key` in the current language, formatted with `kw`.

    A missing key falls back to English, then to the key itself (so a typo shows, never crashes).
    """
    lang = lang or get_language()
    value = CATALOGUES.get(lang, {}).get(key)
    if value is None:
        value = CATALOGUES["en"].get(key, key)
    if isinstance(value, dict):
        if "n" not in kw:
            raise TypeError(f"message {key!r} has plural forms and needs the keyword n")
        forms = value
        value = forms.get(plural_form(kw["n"], lang)) or forms.get("many") or forms["one"]
    try:
        return value.format(**kw)
    except (KeyError, IndexError) as exc:
        raise KeyError(f"message {key!r} needs the placeholder {exc}") from None


_ = t

__all__ = ["set_language", "get_language", "t", "_", "plural_form", "LANGUAGES", "CATALOGUES"]
