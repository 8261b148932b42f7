"""`fieldapp export --with-attachments -o out.zip`: the workbook plus each record's files,
named by record and caption and linked from the 附件 column; what is not on the laptop is said."""

from __future__ import annotations

import csv
import io
import zipfile

import openpyxl

from fieldapp.cli import main
from fieldapp.context import AppContext
from fieldapp.demo import demo_areas
from fieldapp.store import attachments as att
from fieldapp.store.db import transaction
from tests.attachment_support import camera_jpeg, pdf_bytes, png_bytes, write
from tests.conftest import complete_site


def _laptop(tmp_path):
    ctx = AppContext.create(str(tmp_path / "laptop"))
    store = ctx.open_store()
    store.load_areas(demo_areas())
    return ctx, store


def test_zip_holds_the_workbook_and_the_files_linked_from_it(tmp_path, capsys):
    ctx, store = _laptop(tmp_path)
    one = store.save("site", complete_site(address="天平路9号"))
    two = store.save("site", complete_site(address="衡山路12号"))
    store.save("site", complete_site(address="永嘉路3号"))  # no attachments
    att.attach(store, one.id, write(tmp_path / "IMG_1.JPG", camera_jpeg()), caption="门面正面")
    att.attach(store, one.id, write(tmp_path / "IMG_2.PNG", png_bytes(2)), caption="门面正面")
    att.attach(store, one.id, write(tmp_path / "IMG_3.PNG", png_bytes(3)), caption="门面正面")
    att.attach(store, one.id, write(tmp_path / "同意书.pdf", pdf_bytes()),
               caption='权属方同意书 2024/3:盖章')
    pulled = att.attach(store, two.id, write(tmp_path / "x.png", png_bytes(5)), caption="室内")
    with transaction(store.conn):  # as a pulled row whose file was never fetched
        store.conn.execute("UPDATE attachment SET has_content = 0 WHERE id = ?", (pulled.id,))
    out = tmp_path / "导出.zip"
    code = main(["--data-dir", str(ctx.data_dir), "export", "--kind", "sites",
                 "--with-attachments", "-o", str(out)])
    printed = capsys.readouterr().out
    assert code == 0
    assert "附件 4 个" in printed and "1 个未下载" in printed
    with zipfile.ZipFile(out) as bundle:
        names = bundle.namelist()
        folder = f"附件/天平路9号_{one.id[:8]}"
        assert sorted(names) == sorted(["导出.xlsx", f"{folder}/门面正面.jpg",
                                        f"{folder}/门面正面.png", f"{folder}/门面正面_2.png",
                                        f"{folder}/权属方同意书 2024_3_盖章.pdf"])
        photo = bundle.read(f"{folder}/门面正面.jpg")
        assert photo == att.blob_path(ctx.data_dir, att.list_for(store, one.id)[0].sha256
                                      ).read_bytes()  # the downscaled copy, as synced
        book = openpyxl.load_workbook(io.BytesIO(bundle.read("导出.xlsx")))
    sheet = book.worksheets[0]
    header = [c.value for c in sheet[1]]
    assert header[-1] == "附件"
    rows = {r[0].value: r[-1] for r in sheet.iter_rows(min_row=2)}
    assert rows[one.id].hyperlink.target == f"{folder}/"
    assert "门面正面.jpg" in rows[one.id].value
    assert "未下载" in rows[two.id].value and rows[two.id].hyperlink is None
    assert len(rows) == 3


def test_csv_inside_and_wrong_names_refused(tmp_path, capsys):
    ctx, store = _laptop(tmp_path)
    site = store.save("site", complete_site(address="天平路9号"))
    att.attach(store, site.id, write(tmp_path / "a.png", png_bytes(1)))
    out = tmp_path / "sites.zip"
    assert main(["--data-dir", str(ctx.data_dir), "export", "--kind", "sites", "--format",
                 "csv", "--with-attachments", "-o", str(out)]) == 0
    with zipfile.ZipFile(out) as bundle:
        text = bundle.read("sites.csv").decode("utf-8-sig")
        assert f"附件/天平路9号_{site.id[:8]}/a.png" in bundle.namelist()
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][-1] == "附件" and "a.png" in rows[1][-1]
    capsys.readouterr()
    assert main(["--data-dir", str(ctx.data_dir), "export", "--with-attachments", "-o",
                 str(tmp_path / "x.xlsx")]) == 1
    assert ".zip" in capsys.readouterr().err
    assert not (tmp_path / "x.xlsx").exists()
