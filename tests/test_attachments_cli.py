"""The attachment commands: attach from a camera card, list, open/fetch, remove, and the
supervisor fetching a worker's photo after both synced."""

from __future__ import annotations

import io
import json

from fieldapp.cli import main
from fieldapp.context import AppContext
from fieldapp.demo import demo_areas
from fieldapp.domain import attachment_types as types
from tests.attachment_support import jpeg_bytes, pdf_bytes, png_bytes, write
from tests.conftest import complete_site
from tests.sync_helpers import laptops, registry, sqlite_only  # noqa: F401  (fixtures)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_attach_list_open_remove_offline(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    home = str(tmp_path / "laptop")
    store = AppContext.create(home).open_store()
    store.load_areas(demo_areas())
    site = store.save("site", complete_site())
    card = tmp_path / "card"
    good = write(card / "IMG_1.JPG", jpeg_bytes(5000))
    letter = write(card / "letter.pdf", pdf_bytes())
    huge = write(card / "video.jpg", jpeg_bytes(types.MAX_SIZE + 10))
    code, out, err = run(capsys, "--data-dir", home, "attach", site.id[:8], str(good),
                         str(huge), str(letter), "--caption", "正面")
    assert code == 1  # one refused, the others attached
    assert "video.jpg" in err and "文件太大" in err and "too large" in err
    assert out.count("\n") == 2 and "IMG_1.JPG" in out and "letter.pdf" in out

    code, out, _ = run(capsys, "--data-dir", home, "attachments", site.id, "--json")
    items = json.loads(out)
    assert [(i["name"], i["kind"], i["caption"], i["state"]) for i in items] == [
        ("IMG_1.JPG", "photo", "正面", "local"), ("letter.pdf", "document", "正面", "local")]
    code, out, _ = run(capsys, "--data-dir", home, "--lang", "en", "attachments", site.id)
    assert "to upload" in out and "5 KB" in out

    code, out, _ = run(capsys, "--data-dir", home, "status", "--json")
    assert json.loads(out)["attachments"] == {"total": 2, "to_upload": 2, "not_fetched": 0}
    photo_id = items[0]["id"]
    code, out, _ = run(capsys, "--data-dir", home, "attachment", "open", photo_id[:8])
    # No desktop in the test environment: the command prints the file to open.
    assert code == 0 and open(out.strip(), "rb").read() == good.read_bytes()
    code, out, _ = run(capsys, "--data-dir", home, "attachment", "remove", photo_id)
    assert code == 0
    code, out, _ = run(capsys, "--data-dir", home, "attachments", site.id, "--json")
    assert [i["name"] for i in json.loads(out)] == ["letter.pdf"]
    code, _, err = run(capsys, "--data-dir", home, "attachment", "open", "ffffffff")
    assert code == 1 and "no such attachment" in err
    code, _, err = run(capsys, "--data-dir", home, "attach", "deadbeef", str(good))
    assert code == 1 and "no record id starts with deadbeef" in err
    code, out, _ = run(capsys, "--data-dir", home, "attachments", "--auto-download", "on")
    assert code == 0 and store.setting("attachments_auto_download") == "1"


@sqlite_only
def test_supervisor_fetches_after_both_synced(registry, tmp_path, capsys, monkeypatch):
    worker, boss = str(tmp_path / "w"), str(tmp_path / "s")
    monkeypatch.setattr("sys.stdin", io.StringIO("246810\n" * 4))  # the PIN enroll asks
    for home, user, role, scope in ((worker, "wangfang", "worker", "310104003"),
                                    (boss, "liming", "supervisor", "310104")):
        # --token=…: a token may start with "-", which argparse would take for an option.
        code, _, _ = run(capsys, "--data-dir", home, "enroll", "--server", registry.url,
                         f"--token={registry.token(user, role, scope)}")
        assert code == 0
    run(capsys, "--data-dir", worker, "sync")
    site = AppContext.create(worker).open_store().save("site", complete_site())
    photo = write(tmp_path / "p.png", png_bytes(4))
    assert run(capsys, "--data-dir", worker, "attach", site.id, str(photo))[0] == 0
    assert run(capsys, "--data-dir", worker, "sync")[0] == 0
    assert run(capsys, "--data-dir", boss, "sync")[0] == 0
    code, out, _ = run(capsys, "--data-dir", boss, "attachments", site.id, "--json")
    [item] = json.loads(out)
    assert (item["name"], item["has_content"]) == ("p.png", False)
    code, out, _ = run(capsys, "--data-dir", boss, "attachment", "fetch", item["id"])
    assert code == 0 and open(out.strip(), "rb").read() == photo.read_bytes()
    code, out, _ = run(capsys, "--data-dir", boss, "attachments", site.id, "--json")
    assert json.loads(out)[0]["has_content"] is True
