"""Which existing record an imported row is: by record id, else external id, else normalised
address + grid.

The keys of every record of the kind are read once up front, so a 100,000-row import matches
rows against dictionaries instead of querying per row.
"""

from __future__ import annotations

from fieldapp.domain.normalize import normalise_address
from fieldapp.store.records import RecordStore

#: `match` returns this as the record when several records share an address in a grid.
AMBIGUOUS = False


class KeyIndex:
    def __init__(self, store: RecordStore, kind: str) -> None:
        self.ids: set[str] = set()
        self.by_external: dict[str, str] = {}
        self.by_address: dict[tuple, str | None] = {}  # None: several records share it
        self.external_of: dict[str, str | None] = {}
        for rid, grid, address_key, external in store.conn.execute(
                "SELECT id, grid_code, address_key, json_extract(data, '$.external_id') "
                "FROM record WHERE kind = ? AND deleted = 0", (kind,)):
            self.ids.add(rid)
            self.external_of[rid] = external
            if external:
                self.by_external[external] = rid
            if address_key and grid:
                key = (address_key, grid)
                self.by_address[key] = None if key in self.by_address else rid

    def match(self, record_id: str | None, data: dict) -> tuple[tuple | None, str | None | bool]:
        """(the row's key within its file, the existing record's id, None for a new record,
        or AMBIGUOUS); the key is None when the row has nothing to be known by."""
        if record_id and record_id in self.ids:
            return ("id", record_id), record_id
        external = data.get("external_id")
        address, grid = data.get("address"), data.get("grid_code")
        if external:
            if external in self.by_external:
                return ("ext", external), self.by_external[external]
            found = None
            if self.by_address and address and grid:
                found = self.by_address.get((normalise_address(address), grid))
            # An address match counts only if that record has no external id of its own yet.
            if found and not self.external_of.get(found):
                return ("ext", external), found
            return ("ext", external), None
        if not (address and grid):
            return None, None
        address_key = (normalise_address(address), grid)
        if address_key in self.by_address:
            found = self.by_address[address_key]
            return ("addr", *address_key), found if found else AMBIGUOUS
        return ("addr", *address_key), None

    def remember(self, record_id: str, data: dict) -> None:
        """A record just added, so a later row with its external id finds it."""
        self.ids.add(record_id)
        if data.get("external_id"):
            self.by_external[data["external_id"]] = record_id
            self.external_of[record_id] = data["external_id"]
