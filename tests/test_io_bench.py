"""The import benchmark runs end to end (small here; 100,000 rows with FIELDAPP_SLOW=1).

How fast is the benchmark's business (`python -m bench --only import` compares the import
with a bare executemany against its target); a ratio of two timings on a shared machine is
noise, so these tests check only that both sides ran over every row."""

from __future__ import annotations

import os

import pytest

from fieldapp.io import bench


def test_bench_imports_every_row_and_measures_both_sides(tmp_path):
    result = bench.run(1500, tmp_path)
    assert result.added == 1500
    assert result.import_seconds > 0 and result.bare_seconds > 0
    assert "rows/s" in result.line()


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("FIELDAPP_SLOW"), reason="set FIELDAPP_SLOW=1 to run")
def test_bench_100k_rows(tmp_path):
    result = bench.run(100_000, tmp_path)
    print(result.line())
    assert result.added == 100_000
