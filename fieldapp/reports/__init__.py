"""Printable PDF reports: a record's ledger (台账) and an area's report, with Chinese text
embedded so they print anywhere. `document` is the page, `ledger` and `area` the reports,
`drawing` the maps and charts on them."""
