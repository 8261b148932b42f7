"""An admin narrows a user's scope (`admin add-user NAME --scope …` again): at the laptop's
next sync it takes the registry's scope (`user list` shows it, the lists filter by it) and
evicts the records now outside it, except those waiting to be sent; a team laptop keeps what
another of its users may still see."""

from __future__ import annotations

from fieldapp.cli import main
from sync.server import admin
from tests.conftest import complete_site
from tests.sync_helpers import Laptop, registry, sqlite_only  # noqa: F401

INSIDE, OUTSIDE = "310104003001G01", "310104004001G01"


@sqlite_only
def test_narrowed_scope_reaches_the_laptop_and_evicts_what_left_it(registry, tmp_path,
                                                                     capsys):
    boss = Laptop("boss", tmp_path / "boss", registry.url)
    boss.enroll(registry.token("boss", "supervisor", "310104"))
    boss.sync()
    inside = boss.store.save("site", complete_site(grid_code=INSIDE))
    outside = boss.store.save("site", complete_site(grid_code=OUTSIDE))
    assert boss.sync().ok
    boss.close()
    home = tmp_path / "a"
    a = Laptop("a", home, registry.url)
    a.enroll(registry.token("wangfang", "worker", "310104"))
    a.close()
    assert main(["--data-dir", str(home), "sync"]) == 0
    a = Laptop("a", home, registry.url)
    assert a.store.get(outside.id) is not None
    waiting = a.store.save("site", {"notes": "待发送"}, record_id=outside.id)
    other = a.store.save("site", complete_site(grid_code=OUTSIDE, address="湖南路1号"))
    a.close()
    # The laptop's edits wait; meanwhile the admin narrows the scope to one street.
    admin.add_user(registry.database_url, "wangfang", "worker", "310104003")
    capsys.readouterr()
    main(["--data-dir", str(home), "sync"])
    a = Laptop("a", home, registry.url)
    assert a.store.get(inside.id) is not None
    assert a.store.get(outside.id) is not None  # its edit waits (parked: out of scope)
    assert a.store.get(other.id) is not None  # never sent: kept, parked with its reason
    assert a.store.setting("scopes:wangfang") == "310104003"
    a.store.conn.execute("DELETE FROM outbox WHERE record_id = ?", (waiting.id,))
    a.store.conn.commit()
    a.close()
    # Once nothing waits, a record outside the new scope leaves the laptop.
    admin.add_user(registry.database_url, "wangfang", "worker", "310104003,310104004")
    main(["--data-dir", str(home), "sync"])
    admin.add_user(registry.database_url, "wangfang", "worker", "310104003")
    main(["--data-dir", str(home), "sync"])
    a = Laptop("a", home, registry.url)
    assert a.store.get(outside.id) is None and a.store.get(inside.id) is not None
    a.close()
    capsys.readouterr()
    assert main(["--data-dir", str(home), "user", "list"]) == 0
    listed = capsys.readouterr().out
    assert "310104003" in listed and "310104004" not in listed and " 310104 " not in listed
