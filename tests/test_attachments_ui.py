"""The attachments screen through Pilot: from a record's detail (`a`), add with the picker,
a refused file explained in both languages, open without a desktop shows the path, remove."""

from __future__ import annotations

from textual.widgets import DataTable, Input

from fieldapp.demo import demo_areas
from fieldapp.store import attachments as att
from fieldapp.ui.screens import attachments as screen_mod
from fieldapp.ui.screens.attachments import AttachmentsScreen, FilePickerModal, MediaTree
from fieldapp.ui.screens.record_detail import RecordDetailScreen
from tests.attachment_support import pdf_bytes, png_bytes, write
from tests.conftest import complete_site
from tests.ui_support import SIZE, make_app, open_store, settle, text_of, wait_for_screen


def _data(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    store = open_store(data)
    store.load_areas(demo_areas())
    store.set_setting("current_user", "wangfang")
    site = store.save("site", complete_site(address="衡山路8号"))
    store.conn.close()
    return data, site


async def _picker(pilot) -> FilePickerModal:
    # Not wait_for_screen: its settle() waits for every worker, and DirectoryTree's loader
    # worker runs as long as the tree is shown.
    for _ in range(300):
        if isinstance(pilot.app.screen, FilePickerModal):
            await pilot.pause(0.1)
            return pilot.app.screen
        await pilot.pause(0.05)
    raise AssertionError(f"no file picker; at {pilot.app.screen!r}")


async def _pick(pilot, path, caption: str = "") -> None:
    picker = await _picker(pilot)
    picker.query_one("#att-path", Input).value = str(path)
    caption_box = picker.query_one("#att-caption", Input)
    caption_box.value = caption
    caption_box.focus()
    await pilot.press("enter")
    await settle(pilot)


def _rows(screen) -> list[list[str]]:
    table = screen.query_one("#att-table", DataTable)
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_add_open_remove_from_the_detail_screen(tmp_path, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    pictures = tmp_path / "Pictures"
    photo = write(pictures / "门面.png", png_bytes(3))
    write(pictures / "notes.txt", b"not offered")
    monkeypatch.setattr(screen_mod, "start_folder", lambda: pictures)
    data, site = _data(tmp_path)
    app = make_app(data)
    async with app.run_test(size=SIZE) as pilot:
        app.open_detail(site.id)
        await wait_for_screen(pilot, RecordDetailScreen)
        await pilot.press("a")
        screen = await wait_for_screen(pilot, AttachmentsScreen)
        assert "还没有附件" in text_of(screen.query_one("#att-message"))

        await pilot.press("n")
        picker = await _picker(pilot)
        tree = picker.query_one(MediaTree)
        assert tree.path == pictures  # starts in Pictures
        # It offers folders and attachable files only.
        for name in ("a.JPG", "b.heic", "c.pdf", "d.mp4", ".hidden.jpg"):
            write(tmp_path / "card" / name, b"x")
        (tmp_path / "card" / "DCIM").mkdir()
        offered = tree.filter_paths(sorted((tmp_path / "card").iterdir()))
        assert sorted(p.name for p in offered) == ["DCIM", "a.JPG", "b.heic", "c.pdf"]
        await _pick(pilot, photo, "正面照片")
        screen = await wait_for_screen(pilot, AttachmentsScreen)
        assert _rows(screen) == [["门面.png", "照片", f"{len(png_bytes(3))} B", "正面照片",
                                  "待上传"]]
        assert "已添加" in text_of(screen.query_one("#att-message"))
        # The highlighted photo is previewed in the terminal.
        await settle(pilot)
        assert "▀" in text_of(screen.query_one("#att-preview"))

        # A file that is not a photo or PDF is refused with the reason; nothing is added.
        await pilot.press("n")
        await _pick(pilot, pictures / "notes.txt")
        screen = await wait_for_screen(pilot, AttachmentsScreen)
        message = text_of(screen.query_one("#att-message"))
        assert "不支持的文件类型" in message and "unsupported file type" in message
        assert len(_rows(screen)) == 1

        await pilot.press("o")
        await settle(pilot)
        shown = text_of(screen.query_one("#att-message"))
        path = shown.split(": ", 1)[1].strip()
        assert open(path, "rb").read() == photo.read_bytes()

        await pilot.press("d")
        await settle(pilot)
        assert _rows(screen) == []
    store = open_store(data)
    assert [a.deleted for a in att.list_for(store, site.id, include_deleted=True)] == [True]


async def test_english_labels_and_a_document(tmp_path, monkeypatch):
    data, site = _data(tmp_path)
    letter = write(tmp_path / "consent.pdf", pdf_bytes())
    monkeypatch.setattr(screen_mod, "start_folder", lambda: tmp_path)
    app = make_app(data, "en")
    async with app.run_test(size=SIZE) as pilot:
        app.open_detail(site.id)
        await wait_for_screen(pilot, RecordDetailScreen)
        await pilot.press("a")
        await wait_for_screen(pilot, AttachmentsScreen)
        await pilot.press("n")
        await _pick(pilot, letter, "consent letter")
        screen = await wait_for_screen(pilot, AttachmentsScreen)
        assert _rows(screen)[0][1:] == ["document", _rows(screen)[0][2], "consent letter",
                                        "to upload"]
        assert "Attachments" in text_of(screen.query_one("#att-title"))


def test_preview_draws_two_pixels_per_cell_and_declines_what_it_cannot_read(tmp_path):
    from PIL import Image

    from fieldapp.ui.widgets.photo_preview import render

    image = Image.new("RGB", (40, 40), (255, 0, 0))
    image.paste((0, 0, 255), (0, 20, 40, 40))  # lower half blue
    image.save(tmp_path / "flag.jpg", quality=95)
    text = render(tmp_path / "flag.jpg", width=10, height=10)
    lines = text.plain.split("\n")
    assert len(lines) == 5 and all(line == "▀" * 10 for line in lines)
    top, bottom = text.spans[0].style, text.spans[-1].style  # top-left and bottom-right cells
    assert top.color.triplet.red > 200 and top.color.triplet.blue < 60
    assert bottom.bgcolor.triplet.blue > 200 and bottom.bgcolor.triplet.red < 60
    assert render(write(tmp_path / "x.pdf", pdf_bytes()), 10, 10) is None

