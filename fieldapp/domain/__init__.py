"""Pure domain logic: record definitions, choices, catalog, areas, validation. No I/O."""
