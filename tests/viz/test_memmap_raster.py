"""The memory map's raster against the frame table: the PNG decoded back by an independent reader
(chunks, CRCs, zlib, filter bytes) and every pixel's colour compared with each frame's owner."""
import struct
import zlib

import numpy as np
import pytest

import xenlab
from xenlab.viz import theme
from xenlab.viz.memmap import frame_codes, frame_info, frame_rgba, owner_legend, png_bytes, raster_width
from xenlab.xen.public.xen import DOMID_XEN


def decode_png(data: bytes) -> np.ndarray:
    """A minimal PNG reader for 8-bit RGBA with filter 0 (what png_bytes writes), checking every CRC."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF, kind
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    w, h, depth, colour_type, *_ = header
    assert (depth, colour_type) == (8, 6)
    raw = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(h, 1 + 4 * w)
    assert (raw[:, 0] == 0).all()
    return raw[:, 1:].reshape(h, w, 4)


@pytest.fixture(scope="module")
def machine():
    m = xenlab.Machine(memory_mb=64, seed=11)
    a = m.create_domain(xenlab.DomainConfig(name="a", memory=8))
    b = m.create_domain(xenlab.DomainConfig(name="b", memory=8))
    a.pause()
    b.pause()
    return m, a, b


def rgb(colour):
    return tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))


def test_png_pixels_are_the_frame_owners(machine):
    m, a, b = machine
    legend = owner_legend(m)
    width = raster_width(m.frame_table.nr_frames)
    img = decode_png(png_bytes(frame_rgba(frame_codes(m, "owner"), [c for _, _, c in legend], width)))
    n = m.frame_table.nr_frames
    assert img.shape == (-(-n // width), width, 4)
    px = img.reshape(-1, 4)[:n]
    owner = m.frame_table.owner
    # the oracle: the frame table's owner array and the theme's colours, not frame_codes
    for who, colour in ((a.domain_id, theme.domain_colour(a.domain_id)), (b.domain_id, theme.domain_colour(b.domain_id)),
                        (DOMID_XEN, theme.XEN), (-1, theme.FREE)):
        sel = owner == who
        assert sel.any()
        assert (px[sel, :3] == rgb(colour)).all() and (px[sel, 3] == 255).all()
    assert (img.reshape(-1, 4)[n:, 3] == 0).all()            # cells past the last frame are transparent


def test_a_zoomed_range_starts_at_its_first_frame(machine):
    m, a, b = machine
    codes = frame_codes(m, "owner")
    frames = m.frame_table.frames_of(a.domain_id)
    start, stop = int(frames.min()), int(frames.max()) + 1
    img = frame_rgba(codes, ["#000000", "#ffffff"] + ["#ff0000"] * 8, 64, start, stop)
    assert tuple(img[0, 0, :3]) == (255, 0, 0) and img.reshape(-1, 4)[:stop - start].shape[0] == stop - start


def test_raster_width_is_a_power_of_two_near_the_aspect():
    assert raster_width(65536) == 512 and raster_width(16) == 16 and raster_width(10 ** 7) == 1024


def test_frame_info_agrees_with_p2m_and_m2p(machine):
    m, a, b = machine
    mfn = int(a.p2m[7])
    info = frame_info(m, mfn)
    assert info["pfn"] == 7 and info["owner"].startswith(f"d{a.domain_id}")
    root = int(a.p2m[a.kernel.mm.root_pfn])
    r = frame_info(m, root)
    assert r["type"] in ("l2", "l3") and r["pinned"] and r["type_count"] >= 1
    xen = int(np.flatnonzero(m.frame_table.owner == DOMID_XEN)[0])
    assert frame_info(m, xen)["pfn"] is None
