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


def state(m):
    """What a refusal must leave unchanged: the domains (id, name, pages) and the free frames."""
    return (sorted((d.domain_id, d.name, d.tot_pages) for d in m.domains.values()), m.frame_table.free_frames)
