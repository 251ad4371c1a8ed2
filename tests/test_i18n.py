"""Messages in Polish and English: same keys, same placeholders, Polish plurals done right."""
import re
import string

import pytest

from xenlab import i18n
from xenlab.i18n import CATALOGUES, get_language, plural_form, set_language, t


@pytest.fixture(autouse=True)
def restore_language():
    saved = i18n._explicit
    yield
    i18n._explicit = saved


@pytest.mark.parametrize("n, word", [
    (0, "punktów"), (1, "punkt"), (2, "punkty"), (3, "punkty"), (4, "punkty"), (5, "punktów"),
    (11, "punktów"), (12, "punktów"), (13, "punktów"), (14, "punktów"), (15, "punktów"),
    (21, "punktów"), (22, "punkty"), (23, "punkty"), (24, "punkty"), (25, "punktów"),
    (101, "punktów"), (102, "punkty"), (111, "punktów"), (112, "punktów"), (122, "punkty"),
])
def test_polish_points(n, word):
    assert t("grading.points", "pl", n=n) == f"{n} {word}"


def test_english_points():
    assert [t("grading.points", "en", n=n) for n in (0, 1, 2, 21)] == \
        ["0 points", "1 point", "2 points", "21 points"]


def test_polish_hidden_checks_sentence_agrees_with_its_number():
    assert "1 ukryte sprawdzenie zostanie uruchomione" in t("check.public_passed", "pl", n=1)
    assert "3 ukryte sprawdzenia zostaną uruchomione" in t("check.public_passed", "pl", n=3)
    assert "5 ukrytych sprawdzeń zostanie uruchomionych" in t("check.public_passed", "pl", n=5)
    assert "12 ukrytych sprawdzeń" in t("check.public_passed", "pl", n=12)


def _placeholders(value) -> set:
    texts = value.values() if isinstance(value, dict) else [value]
    return {f[1].split("!")[0] for text in texts for f in string.Formatter().parse(text) if f[1]}


def test_catalogues_have_the_same_keys_and_placeholders():
    pl, en = CATALOGUES["pl"], CATALOGUES["en"]
    assert set(pl) == set(en)
    for key in pl:
        assert _placeholders(pl[key]) == _placeholders(en[key]), key
        assert "lang" not in _placeholders(pl[key]), f"{key}: 'lang' is t()'s own parameter"
        if isinstance(pl[key], dict):
            assert set(pl[key]) == {"one", "few", "many"}, key
            assert set(en[key]) == {"one", "many"}, key


def test_polish_text_has_its_diacritics():
    text = " ".join(v if isinstance(v, str) else " ".join(v.values()) for v in CATALOGUES["pl"].values())
    assert re.search("[ąćęłńóśźż]", text)


def test_set_language_and_default(monkeypatch):
    monkeypatch.delenv("XENLAB_LANG", raising=False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    i18n._explicit = None
    assert get_language() == "pl"
    monkeypatch.setenv("XENLAB_LANG", "en")
    assert get_language() == "en"
    monkeypatch.setenv("JPY_SESSION_NAME", "/course/notebooks/pl/01_introduction.ipynb")
    assert get_language() == "pl"                       # the notebook's folder wins over the env
    set_language("en")
    assert get_language() == "en" and t("viz.layers.step") == "Step"
    set_language("PL")
    assert t("viz.layers.step") == "Krok"
    with pytest.raises(ValueError, match="pl, en"):
        set_language("de")


def test_set_language_is_exported_from_xenlab():
    import xenlab
    assert xenlab.set_language is set_language


def test_plural_form_is_cldr():
    assert [plural_form(n, "pl") for n in (1, 2, 5, 22, 25)] == ["one", "few", "many", "few", "many"]
