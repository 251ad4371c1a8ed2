"""Toolstack failure tests: English messages (the catalogue's EN side), fresh small machines."""
import pytest

import xenlab
from xenlab import i18n


@pytest.fixture(autouse=True)
def english():
    saved = i18n._explicit
    xenlab.set_language("en")
    yield
    i18n._explicit = saved


from toolstack_state import state  # noqa: E402,F401  (kept importable from here)
