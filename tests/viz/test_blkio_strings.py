"""The block I/O view's words in both languages: the empty table, the column heads, the axes."""
import pytest

import xenlab
from xenlab import i18n
from xenlab.i18n import CATALOGUES, set_language
from xenlab.viz.blkio import rows_html, vbd_rows


@pytest.fixture(autouse=True)
def restore_language():
    saved = i18n._explicit
    yield
    i18n._explicit = saved


@pytest.fixture(scope="module")
def rows(tmp_path_factory):
    img = tmp_path_factory.mktemp("blk") / "disk.img"
    img.write_bytes(b"\0" * (1 << 20))
    m = xenlab.Machine(memory_mb=64, seed=1)
    m.create_domain(xenlab.DomainConfig(name="web", memory=16, disk=[f"file:{img},xvda,w"]))
    m.run_for(2_000_000)
    return vbd_rows(m)


def test_every_column_has_a_head_in_both_languages(rows):
    assert rows
    for key in rows[0]:
        for lang in ("pl", "en"):
            assert f"viz.blkio.column.{key}" in CATALOGUES[lang], (lang, key)


def test_english_table_keeps_the_row_keys_as_heads(rows):
    set_language("en")
    html = rows_html(rows)
    assert "".join(f"<th>{k}</th>" for k in rows[0]) in html
    assert rows_html([]) == "<i>no virtual disks</i>"


def test_polish_table(rows):
    set_language("pl")
    html = rows_html(rows)
    assert "<th>domena</th>" in html and "<th>błędy</th>" in html and "<th>rd_req</th>" in html
    assert rows_html([]) == "<i>brak wirtualnych urządzeń blokowych</i>"


def test_axes_follow_the_language():
    pytest.importorskip("bqplot")
    from xenlab.viz.blkio import BlkView
    m = xenlab.Machine(memory_mb=64, seed=1)
    set_language("pl")
    assert [a.label for a in BlkView(m).figure.axes] == ["ms", "sektor"]
    set_language("en")
    assert [a.label for a in BlkView(m).figure.axes] == ["ms", "sector"]
