"""Fitting a table's columns to the terminal: whole labels, the least needed columns dropped.

A column label cut to "St…" or "Sub…" is ambiguous, so labels are never cut: a table that does
not fit first gives its flexible column (the address or name) down to its minimum, then drops
the columns a person can do without, least needed first. Widths are terminal cells.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.cells import cell_len


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    want: int  # cells its values usually need
    drop: int = 0  # 0 never dropped; higher numbers go first when space runs out
    flex: bool = False  # takes the room left over (at least `want`... down to `least`)
    least: int = 12  # a flexible column's narrowest

    @property
    def floor(self) -> int:
        """Narrowest this column may be: never narrower than its label."""
        return max(cell_len(self.label), self.least if self.flex else self.want)


def fit_columns(columns: list[Column], available: int,
                padding: int = 2) -> list[tuple[Column, int]]:
    """(column, width) pairs in the given order that fit in `available` cells.

    `padding` is what the table adds around each cell (DataTable: 2 × cell_padding).
    """
    kept = list(columns)

    def need(cols: list[Column], flexible_at_floor: bool) -> int:
        total = 0
        for c in cols:
            width = c.floor if (c.flex and flexible_at_floor) else max(c.floor, c.want)
            total += width + padding
        return total

    while need(kept, True) > available:
        droppable = [c for c in kept if c.drop]
        if not droppable:
            break
        kept.remove(max(droppable, key=lambda c: (c.drop, kept.index(c))))
    fixed = sum(max(c.floor, c.want) + padding for c in kept if not c.flex)
    flexible = [c for c in kept if c.flex]
    left = available - fixed - padding * len(flexible)
    out = []
    for c in kept:
        if c.flex:
            share = left // len(flexible)
            out.append((c, max(c.floor, share)))
        else:
            out.append((c, max(c.floor, c.want)))
    return out
