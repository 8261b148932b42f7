"""Smaller photos before sync: downscaled when attached (long edge, quality, orientation,
GPS kept), the original kept on the laptop unless turned off, the registry gets the small file,
and `fieldapp attachments` shows the setting and the effect."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image
from PIL.ExifTags import IFD

from fieldapp.cli import main
from fieldapp.context import AppContext
from fieldapp.demo import demo_areas
from fieldapp.store import attachments as att
from fieldapp.store import photos
from fieldapp.store.db import transaction
from tests.attachment_support import camera_jpeg, png_bytes, write
from tests.conftest import complete_site
from tests.sync_helpers import laptops, registry  # noqa: F401  (fixtures)

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def laptop(tmp_path):
    ctx = AppContext.create(str(tmp_path / "laptop"))
    store = ctx.open_store()
    store.load_areas(demo_areas())
    return ctx, store, store.save("site", complete_site())


def _image(path) -> Image.Image:
    image = Image.open(path)
    image.load()
    return image


def test_a_camera_photo_is_made_smaller_upright_with_its_gps(laptop, tmp_path):
    ctx, store, site = laptop
    original = write(tmp_path / "card" / "IMG_0001.JPG", camera_jpeg())
    a = att.attach(store, site.id, original, caption="门面正面")
    stored = _image(att.blob_path(ctx.data_dir, a.sha256))
    assert stored.format == "JPEG"
    assert stored.size == (1500, 2000)  # long edge 2,000 px, turned upright
    exif = stored.getexif()
    assert exif.get(0x0112, 1) == 1  # no orientation left to apply twice
    assert exif.get(0x010F) == "FieldCam"
    gps = exif.get_ifd(IFD.GPSInfo)
    assert gps[1] == "N" and float(gps[2][0]) == 31.0 and float(gps[4][1]) == 26.0
    # the band the camera saw at the top is now on the right-hand side
    assert stored.getpixel((1490, 1000))[0] > 180 and stored.getpixel((10, 1000))[0] < 180
    assert a.size < original.stat().st_size and a.mime == "image/jpeg"
    assert (a.original_size, a.original_pixels, a.pixels) == (
        original.stat().st_size, "4000x3000", "1500x2000")
    kept = att.original_path(a, ctx.data_dir)
    assert kept is not None and kept.read_bytes() == original.read_bytes()
    row = att.get(store, a.id)
    assert row.downscaled and row.original_sha256 == a.original_sha256
    assert "原图" in row.resize_note("zh") and "4000x3000 → 1500x2000" in row.resize_note("en")


def test_small_photos_png_and_settings_off_are_kept_as_they_are(laptop, tmp_path):
    ctx, store, site = laptop
    small = write(tmp_path / "small.jpg", camera_jpeg(1200, 900, orientation=1))
    a = att.attach(store, site.id, small)
    assert not a.downscaled and att.blob_path(ctx.data_dir, a.sha256).read_bytes() == \
        small.read_bytes()
    with transaction(store.conn):
        photos.save_settings(store, max_edge=0)
    big = write(tmp_path / "big.jpg", camera_jpeg(3000, 2000, orientation=1))
    assert not att.attach(store, site.id, big).downscaled
    tiny_png = write(tmp_path / "plan.png", png_bytes(3))
    assert not att.attach(store, site.id, tiny_png).downscaled


def test_a_large_png_becomes_a_jpeg_and_the_original_can_be_left_out(laptop, tmp_path):
    ctx, store, site = laptop
    with transaction(store.conn):
        photos.save_settings(store, max_edge=1000, quality=70, keep_original=False)
    image = Image.open(io.BytesIO(camera_jpeg(2400, 1600, orientation=1))).convert("RGBA")
    buf = io.BytesIO()
    image.save(buf, "PNG")
    source = write(tmp_path / "plan.PNG", buf.getvalue())
    a = att.attach(store, site.id, source)
    assert a.name == "plan.jpg" and a.mime == "image/jpeg" and a.pixels == "1000x667"
    assert a.original_sha256 is None and att.original_path(a, ctx.data_dir) is None
    files = [p for p in (ctx.data_dir / "attachments").rglob("*") if p.is_file()]
    assert [p.name for p in files] == [a.sha256]  # the original's copy was not kept


def test_removing_a_photo_frees_both_files_and_drop_originals_keeps_unsynced(laptop, tmp_path):
    ctx, store, site = laptop
    a = att.attach(store, site.id, write(tmp_path / "a.jpg", camera_jpeg()))
    b = att.attach(store, site.id, write(tmp_path / "b.jpg", camera_jpeg(3600, 2400, 1)))
    assert att.drop_originals(store, ctx.data_dir) == (0, 0)  # not synced yet: kept
    att.mark_uploaded(store, {b.id: b.wire()})
    n, freed = att.drop_originals(store, ctx.data_dir)
    assert n == 1 and freed == b.original_size
    assert att.original_path(att.get(store, b.id), ctx.data_dir) is None
    att.remove(store, a.id, ctx.data_dir)
    assert not att.blob_path(ctx.data_dir, a.sha256).exists()
    assert not att.blob_path(ctx.data_dir, a.original_sha256).exists()
    assert att.blob_path(ctx.data_dir, b.sha256).exists()


def test_settings_are_checked():
    class Store(dict):
        def setting(self, key, default=None):
            return self.get(key, default)

        def set_setting(self, key, value):
            self[key] = value

    store = Store()
    assert photos.settings(store) == photos.PhotoSettings(2000, 85, True)
    with pytest.raises(ValueError, match="200–20000"):
        photos.save_settings(store, max_edge=50)
    with pytest.raises(ValueError, match="30–95"):
        photos.save_settings(store, quality=100)
    assert photos.save_settings(store, max_edge=0).max_edge == 0


def test_cli_shows_and_changes_the_setting_and_the_effect(laptop, tmp_path, capsys):
    ctx, store, site = laptop
    home = str(ctx.data_dir)
    photo = write(tmp_path / "IMG_2.JPG", camera_jpeg())
    assert main(["--data-dir", home, "attach", site.id, str(photo)]) == 0
    capsys.readouterr()
    assert main(["--data-dir", home, "attachments"]) == 0
    out = capsys.readouterr().out
    assert "长边超过 2000 像素" in out and "quality 85" in out and "originals kept" in out
    assert "已缩小 1 张照片" in out
    assert main(["--data-dir", home, "attachments", site.id]) == 0
    out = capsys.readouterr().out
    assert "4000x3000 → 1500x2000" in out
    assert main(["--data-dir", home, "attachments", site.id, "--json"]) == 0
    item = json.loads(capsys.readouterr().out)[0]
    assert item["original_pixels"] == "4000x3000" and item["original_kept"] is True
    assert main(["--data-dir", home, "attachments", "--max-edge", "1600", "--quality", "80",
                 "--keep-originals", "off"]) == 0
    assert "1600" in capsys.readouterr().out
    assert main(["--data-dir", home, "attachments", "--json"]) == 0
    overview = json.loads(capsys.readouterr().out)
    assert (overview["max_edge"], overview["quality"], overview["keep_original"]) == (
        1600, 80, False)
    assert overview["downscaled"] == 1 and overview["bytes_after"] < overview["bytes_before"]
    assert main(["--data-dir", home, "attachments", "--max-edge", "10"]) == 1
    assert "200–20000" in capsys.readouterr().err
    a = att.list_for(store, site.id)[0]
    assert main(["--data-dir", home, "attachment", "fetch", a.id[:8], "--original"]) == 0
    assert capsys.readouterr().out.strip().endswith(a.original_sha256)


def test_heic_is_decoded_where_the_library_is_installed(laptop, tmp_path):
    # The fixture was encoded once with pillow-heif; pi_heif (a dependency where wheels exist)
    # only decodes.
    pytest.importorskip("pi_heif")
    ctx, store, site = laptop
    heic = FIXTURES / "photo_2400x1600.heic"
    a = att.attach(store, site.id, heic, caption="手机照片")
    assert a.downscaled and a.mime == "image/jpeg" and a.name == "photo_2400x1600.jpg"
    assert (a.original_mime, a.original_pixels, a.pixels) == ("image/heic", "2400x1600",
                                                              "2000x1333")
    assert _image(att.blob_path(ctx.data_dir, a.sha256)).format == "JPEG"


def test_heic_without_a_decoder_is_stored_as_it_is(laptop, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_heif(name, *args, **kwargs):
        if name == "pi_heif":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_heif)
    ctx, store, site = laptop
    a = att.attach(store, site.id, FIXTURES / "photo_2400x1600.heic")
    assert not a.downscaled and a.mime == "image/heic" and not photos.heic_supported()


@pytest.fixture
def blob_dir(tmp_path, monkeypatch):
    path = tmp_path / "registry-blobs"
    monkeypatch.setenv("FIELDAPP_BLOB_DIR", str(path))
    return path


def test_the_registry_receives_the_smaller_file(blob_dir, registry, laptops, tmp_path):
    worker = laptops("worker")
    worker.sync()
    site = worker.store.save("site", complete_site(address="天平路7号"))
    photo = write(tmp_path / "IMG_9.JPG", camera_jpeg())
    a = att.attach(worker.store, site.id, photo)
    report = worker.sync()
    assert report.ok, report.errors
    assert report.attachments.sent_bytes == a.size < photo.stat().st_size
    blobs = [p for p in blob_dir.rglob("*") if p.is_file()]
    assert [p.name for p in blobs] == [a.sha256]
    assert _image(blobs[0]).size == (1500, 2000)


def test_opening_the_original_gives_the_camera_file(laptop, tmp_path, capsys, monkeypatch):
    for name in ("DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr("fieldapp.compat.files.open_with_desktop", lambda path: False)
    ctx, store, site = laptop
    photo = write(tmp_path / "IMG_7.JPG", camera_jpeg())
    a = att.attach(store, site.id, photo)
    home = str(ctx.data_dir)
    assert main(["--data-dir", home, "attachment", "open", a.id[:8], "--original"]) == 0
    copy = Path(capsys.readouterr().out.strip())
    assert copy.read_bytes() == photo.read_bytes() and copy.suffix == ".JPG"
    assert main(["--data-dir", home, "attachment", "open", a.id[:8]]) == 0
    small = Path(capsys.readouterr().out.strip())
    assert small.read_bytes() == att.blob_path(ctx.data_dir, a.sha256).read_bytes()
