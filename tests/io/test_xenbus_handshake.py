"""The split-device handshake through XenStore (xen-facts section 12), watched on the trace bus."""
import xenlab
from xenlab.xen.public.io.xenbus import XenbusState as S


def states(events, path):
    return [int(e["value"]) for e in events if e.cls == "XS" and e.name == "write" and e["path"] == f"{path}/state"]


def test_vbd_and_vif_handshake(tmp_path):
    img = tmp_path / "d.img"
    img.write_bytes(b"\0" * 512 * 16)
    m = xenlab.Machine(memory_mb=48, seed=1)
    with m.trace.record() as events:
        d = m.create_domain(xenlab.DomainConfig(name="h", memory=8, disk=[f"file:{img},hda,r"], vif=[""]))
    devid = 3 << 8
    fe, be = f"/local/domain/{d.domain_id}/device/vbd/{devid}", f"/local/domain/0/backend/vbd/{d.domain_id}/{devid}"
    assert states(events, be) == [S.Initialising, S.InitWait, S.Connected]
    assert states(events, fe) == [S.Initialising, S.Initialised, S.Connected]
    vfe, vbe = f"/local/domain/{d.domain_id}/device/vif/0", f"/local/domain/0/backend/vif/{d.domain_id}/0"
    assert states(events, vbe) == [S.Initialising, S.InitWait, S.Connected]
    assert states(events, vfe) == [S.Initialising, S.Connected]      # netfront goes straight to Connected
    xs = d.xs
    assert int(xs.read(f"device/vbd/{devid}/ring-ref")) >= 8              # a real grant reference
    assert xs.read(f"{be}/sectors") == "16" and xs.read(f"{be}/info") == "4"   # VDISK_READONLY
    assert xs.read(f"{be}/mode") == "r" and xs.read(f"{be}/type") == "file"
    for key in ("tx-ring-ref", "rx-ring-ref", "event-channel", "request-rx-copy", "mac"):
        assert xs.read(f"device/vif/0/{key}") not in ("", None)
    # The guest may not write the back end's directory; it may read it.
    from xenlab.dom0.xenstore import is_error
    assert is_error(xs.write(f"{be}/mode", "w"))
    # The ring-ref and event-channel were written in one transaction.
    tx = [e for e in events if e.cls == "XS" and e.name == "transaction_end" and e.domid == d.domain_id]
    assert tx and tx[0]["result"] == "commit"


def test_disk_spec_parsing():
    from xenlab.toolstack.devices import blkdev_name_to_number, parse_disk, parse_vif
    assert blkdev_name_to_number("xvda") == 51712
    assert blkdev_name_to_number("xvdb2") == 51712 + 16 + 2
    assert blkdev_name_to_number("hdc") == 22 << 8
    assert blkdev_name_to_number("sda1") == 2049
    assert parse_disk("file:/x.img,xvda,w") == ("file", "/x.img", "xvda", "w")
    assert parse_disk("tap:aio:/x.img,xvda,r") == ("file", "/x.img", "xvda", "r")
    assert parse_vif("mac=00:16:3e:00:00:01, bridge=xenbr0") == {"mac": "00:16:3e:00:00:01", "bridge": "xenbr0"}


def test_xm_config_file_with_disk(tmp_path):
    from xenlab.toolstack.config import parse_config
    img = tmp_path / "root.img"
    img.write_bytes(b"\1" * 512 * 8)
    cfg = parse_config(f"name = 'web'\nmemory = 8\ndisk = ['file:{img},xvda,w']\nvif = ['bridge=xenbr0']\n")
    m = xenlab.Machine(memory_mb=48, seed=1)
    d = m.create_domain(cfg)
    assert d.kernel.vbds["xvda"].sectors == 8 and len(d.kernel.vifs) == 1
