"""Registry administration and failure handling: areas from CSV (checked row by row, all or
nothing), user rules, the log line per request, and a crash answered as generic JSON."""

from __future__ import annotations

import logging

import httpx
import pytest
from server_support import STREET, mutation

from sync.server import admin


@pytest.fixture
def url(tmp_path) -> str:
    u = f"sqlite:///{tmp_path / 'registry.sqlite3'}"
    admin.load_demo_areas(u)
    return u


def write_csv(tmp_path, text: str):  # noqa: ANN001, ANN201
    path = tmp_path / "areas.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_areas_csv_loads_with_parents_in_any_order(tmp_path, url):
    path = write_csv(tmp_path, "code,name,level,parent_code,lat,lng,households\n"
                               f"{STREET}009G01,新网格,grid,{STREET}009,31.2,121.44,1500\n"
                               f"{STREET}009,新居委,community,{STREET},,,\n")
    areas = admin.read_areas_csv(path)
    assert [a.households for a in areas] == [1500, None]
    assert admin.load_areas(url, areas) == 2
    assert admin.load_areas(url, areas) == 0  # unchanged rows are not rewritten
    token = admin.add_user(url, "grid-worker", "worker", f"{STREET}009G01")
    assert token


def test_bad_area_rows_load_nothing_and_say_which(tmp_path, url):
    path = write_csv(tmp_path, "code,name,level,parent_code\n"
                               "X1,好网格,grid,310104003001\n"
                               "X2,孤儿,grid,NOPE\n"
                               "X3,,street,310104\n"
                               "X4,怪,village,310104\n")
    with pytest.raises(admin.AdminError) as err:
        admin.load_areas(url, admin.read_areas_csv(path))
    text = str(err.value)
    assert "X2" in text and "NOPE" in text and "X3" in text and "X4" in text
    assert "X1" not in text
    assert admin.load_areas(url, []) == 0
    with pytest.raises(admin.AdminError, match="unknown area code"):
        admin.add_user(url, "x", "worker", "X1")  # the good row was not loaded either


def test_areas_csv_format_errors(tmp_path):
    with pytest.raises(admin.AdminError, match="missing column"):
        admin.read_areas_csv(write_csv(tmp_path, "code,name\nA,B\n"))
    with pytest.raises(admin.AdminError, match="line 2"):
        admin.read_areas_csv(write_csv(tmp_path, "code,name,level,parent_code,lat\n"
                                                 "A,B,grid,C,north\n"))
    with pytest.raises(admin.AdminError, match="cannot read"):
        admin.read_areas_csv(tmp_path / "missing.csv")


def test_user_rules(url):
    with pytest.raises(admin.AdminError, match="role"):
        admin.add_user(url, "x", "boss", STREET)
    with pytest.raises(admin.AdminError, match="scope"):
        admin.add_user(url, "x", "worker", "")
    with pytest.raises(admin.AdminError, match="no user"):
        admin.revoke_user(url, "nobody")
    admin.add_user(url, "x", "worker", STREET)
    admin.add_user(url, "x", "supervisor", f"{STREET},310104004")  # renew: new role, scopes
    [user] = admin.list_users(url)
    assert (user["role"], user["scopes"]) == ("supervisor", [STREET, "310104004"])


async def test_crash_is_generic_json_and_logged_without_secrets(url, monkeypatch, caplog):
    from sync.server import app as app_module

    app = app_module.create_app(url)
    token = admin.add_user(url, "wu", "worker", STREET)

    def broken(*_a, **_k):  # noqa: ANN002, ANN003, ANN202
        raise RuntimeError("secret internals")

    monkeypatch.setattr(app_module, "push", broken)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    headers = {"X-Fieldapp-Protocol": "1"}
    async with httpx.AsyncClient(transport=transport, base_url="http://t", headers=headers) as c:
        cred = (await c.post("/api/v1/enroll", json={"token": token, "device_id": "d"})
                ).json()["credential"]
        with caplog.at_level(logging.INFO, logger="fieldapp.server"):
            r = await c.post("/api/v1/push", json={"mutations": [mutation(fields={
                "grid_code": "310104003001G01", "owner_phone": "13800138000"})]},
                headers={"Authorization": f"Bearer {cred}"})
    assert r.status_code == 500
    assert r.json()["error"] == "internal_error" and "secret" not in r.text
    lines = [rec.getMessage() for rec in caplog.records if rec.name == "fieldapp.server"]
    assert any(line.startswith("POST /api/v1/push 500 ") and line.endswith(" wu")
               for line in lines), lines
    assert not any(cred in line or "13800138000" in line for line in lines)
