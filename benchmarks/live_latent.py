"""Benchmark: how fast the book's latent-space page redraws its generators in the browser, and what it weighs.

Opens the built page (``_build/html/book/latent.html``, after ``make book``) from ``file://`` in Debian's
headless Chromium, with no extra flags, and times inside the page (``performance.now()``):

1. a 4x4 grid: 16 latent vectors (seeds 0 to 15) through each shipped generator, drawn into a canvas,
   the way a widget redraws (``window.ganTeachLive.drawGrid``);
2. the latent explorer's redraws: while a slider is dragged (the sample, one image) and when it is let go
   (the sample and its 4 x 7 walks: 25 distinct images).

Then it adds up the bytes the feature adds to the page (the runtime, its stylesheet and the three
generators), as shipped and gzip-compressed (what a web server would send). Run it from the repository
root on an otherwise idle machine (the times are wall-clock):

    python benchmarks/live_latent.py                  # about a minute; --repeats 50 for more rounds
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# the browser set-up the browser tests use
sys.path.insert(0, str(REPO / "tests"))
from chromium import start_chromium  # noqa: E402

PAGE = REPO / "_build" / "html" / "book" / "latent.html"
ASSETS = REPO / "_build" / "html" / "_static" / "live-latent"


def open_page():
    driver = start_chromium(script_timeout=600)
    driver.get(PAGE.as_uri())
    deadline = time.monotonic() + 60
    while not driver.execute_script(
        "return window.ganTeachLive && window.ganTeachLive.widgets.length === 3 && "
        "window.ganTeachLive.widgets.every(w => w.draws >= 1)"
    ):
        if time.monotonic() > deadline:
            raise RuntimeError("the live widgets did not draw within 60 s")
        time.sleep(0.1)
    return driver


GRID = """
const [name, repeats] = arguments, done = arguments[arguments.length - 1], live = window.ganTeachLive;
const latents = [], labels = [], canvas = document.createElement("canvas");
for (let seed = 0; seed < 16; seed++) { latents.push(...live.seedLatent(name, seed)); labels.push(seed % 10); }
for (let i = 0; i < 3; i++) live.drawGrid(canvas, name, latents, labels, 4);  // warm-up: the JIT compiles the loops
const times = [];
for (let i = 0; i < repeats; i++) {
  const start = performance.now();
  live.drawGrid(canvas, name, latents, labels, 4);
  times.push(performance.now() - start);
}
done(times);
"""

EXPLORER = """
const [repeats, full] = arguments, done = arguments[arguments.length - 1], widget = window.ganTeachLive.widgets[0];
const slider = widget.sliders[0].input, times = [];
for (let i = 0; i < repeats + 3; i++) {
  slider.value = (i % 2 ? 1.5 : -1.5);
  widget.redraw(full);  // now, instead of at the next animation frame; full: false is a drag, true a release
  if (i >= 3) times.push(widget.lastRedrawMs);
}
done(times);
"""


def summary(times: list[float]) -> dict[str, float]:
    # The fastest run is what the page costs on an idle core; median and worst are what a reader sees here.
    return {
        "median_ms": round(statistics.median(times), 1),
        "worst_ms": round(max(times), 1),
        "fastest_ms": round(min(times), 1),
        "runs": len(times),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--repeats",
        type=int,
        default=30,
        help="timed redraws per measurement (default: 30)",
    )
    parser.add_argument(
        "--out", type=Path, default=REPO / "benchmarks" / "live_latent.json"
    )
    args = parser.parse_args()
    if not PAGE.exists():
        raise SystemExit(f"no built book at {PAGE}: run `make book` first")
    load_before = os.getloadavg()
    driver = open_page()
    try:
        results = {"grid_4x4": {}}
        for name in driver.execute_script(
            "return window.ganTeachLive.available()"
        ):
            error = driver.execute_async_script(
                "window.ganTeachLive.ensure(arguments[0], arguments[arguments.length - 1])",
                name,
            )
            if error:
                raise RuntimeError(error)
            results["grid_4x4"][name] = summary(
                driver.execute_async_script(GRID, name, args.repeats)
            )
        results["explorer_drag_1_image"] = summary(
            driver.execute_async_script(EXPLORER, args.repeats, False)
        )
        results["explorer_release_25_images"] = summary(
            driver.execute_async_script(EXPLORER, args.repeats, True)
        )
        browser = driver.capabilities.get("browserVersion")
    finally:
        driver.quit()
    weight = {}
    for path in sorted(ASSETS.iterdir()):
        data = path.read_bytes()
        weight[path.name] = {
            "bytes": len(data),
            "gzip_bytes": len(gzip.compress(data, 9)),
        }
    weight["total"] = {
        key: sum(entry[key] for entry in weight.values())
        for key in ("bytes", "gzip_bytes")
    }
    record = {
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor(),
            "cpus": os.cpu_count(),
            "chromium": browser,
            "load_average_start": load_before,
            "load_average_end": os.getloadavg(),
        },
        "repeats": args.repeats,
        **results,
        "page_weight": weight,
    }
    args.out.write_text(json.dumps(record, indent=2) + "\n")
    for name, entry in results["grid_4x4"].items():
        print(
            f"4x4 grid, {name:<20}: median {entry['median_ms']:6.1f} ms, worst {entry['worst_ms']:6.1f} ms, "
            f"fastest {entry['fastest_ms']:6.1f} ms"
        )
    for label, key in (
        ("explorer drag (1 image)", "explorer_drag_1_image"),
        ("explorer release (25 images)", "explorer_release_25_images"),
    ):
        entry = results[key]
        print(
            f"{label:<31}: median {entry['median_ms']:6.1f} ms, worst {entry['worst_ms']:6.1f} ms, fastest {entry['fastest_ms']:6.1f} ms"
        )
    for name, entry in weight.items():
        print(
            f"{name:<24} {entry['bytes']:>10,} bytes ({entry['gzip_bytes']:>9,} gzip)"
        )
    print(
        f"load average {load_before[0]:.2f} at start, {record['machine']['load_average_end'][0]:.2f} at the end; wrote {args.out}"
    )


if __name__ == "__main__":
    main()
