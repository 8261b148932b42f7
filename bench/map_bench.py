"""The map screen at 100,000 records (Pilot): a key (pan or zoom) to the map redrawn.

The map opens on every record the bench user may see (no scope: all of them), fitted to the
city, then zoomed to a street; each sample presses one key and times until the canvas has
drawn the new frame and the screen has refreshed.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from bench.common import Row, median, ms, percentile

KEYS = ["right", "down", "left", "up", "plus", "minus"] * 5


def _measure(data_dir: Path) -> tuple[list[float], list[float], int, float]:
    from fieldapp.context import AppContext
    from fieldapp.ui.app import FieldApp
    from fieldapp.ui.screens.map import MapScreen
    from fieldapp.ui.widgets.map_canvas import MapCanvas

    async def run() -> tuple[list[float], list[float], int, float]:
        app = FieldApp(AppContext.create(str(data_dir)))
        samples: list[float] = []
        cpu: list[float] = []
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause(0.5)
            opened = time.perf_counter()
            app.open_map()
            while not isinstance(app.screen, MapScreen) or app.screen.loaded is None:
                await pilot.pause(0.02)
            load = time.perf_counter() - opened
            screen = app.screen
            canvas = screen.query_one(MapCanvas)
            points = canvas.index.count
            for key in ["plus"] * 4 + ["0"]:  # warm up, then back to the whole city
                await pilot.press(key)
            for zoom in (["plus"] * 0, ["plus"] * 4):  # the city, then about a street
                for key in zoom:
                    await pilot.press(key)
                await pilot.pause(0.1)
                for key in KEYS:
                    drawn = []
                    original = canvas.redraw

                    def timed_redraw(original=original, drawn=drawn) -> None:
                        original()
                        canvas.call_after_refresh(lambda: drawn.append(time.perf_counter()))

                    canvas.redraw = timed_redraw
                    start, cpu_start = time.perf_counter(), time.process_time()
                    await pilot.press(key)
                    while not drawn and time.perf_counter() - start < 5:
                        await asyncio.sleep(0.001)
                    canvas.redraw = original
                    samples.append((drawn[0] if drawn else time.perf_counter()) - start)
                    cpu.append(time.process_time() - cpu_start)
        return samples, cpu, points, load

    return asyncio.run(run())


def rows(store, work: Path, args) -> list[Row]:
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data_dir = Path(store.conn.execute("PRAGMA database_list").fetchone()[2]).parent
    samples, cpu, points, load = _measure(data_dir)
    p95 = percentile(samples, 95)
    return [Row(f"map: key → redrawn ({points:,} points on the map, pan/zoom, {len(samples)} "
                f"keys, city and street view)", f"median {ms(median(samples))}, p95 {ms(p95)} "
                f"(CPU median {ms(median(cpu))}, p95 {ms(percentile(cpu, 95))})",
                f"opening the map (read in a worker) {load:.1f} s", "p95 < 100 ms",
                p95 < 0.100)]
