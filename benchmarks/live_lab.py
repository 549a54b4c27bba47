"""Speed of the live GAN lab in the built book: full training steps per second in headless Chromium.

Run after ``make book`` (or any build of the lab chapter):

    python benchmarks/live_lab.py [--seconds 10] [--screenshot lab.png]

It opens ``_build/html/book/lab.html`` from ``file://`` (no browser flags), keeps the lab's defaults (the
ring, non-saturating loss, Adam, k = 1, width 64, batch 128) and runs the page's own measuring loop,
``LiveLab.benchmark``: full steps as Play runs them, with a picture after every frame's worth of steps
(heat map 40 x 40, manifold, 512 fakes, 64 arrows, both charts), and then the same without drawing.
Wall-clock figures on a shared machine depend on what else runs, so the script also times the trainer's
CPU work under Node (``process.cpuUsage``: CPU time, which other jobs barely change): one full step, and
the two largest parts of a picture (the 40 x 40 heat map, the manifold). The figures go to
benchmarks/README.md by hand, with the machine, its load and the date.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PAGE = REPO / "_build" / "html" / "book" / "lab.html"
# the browser set-up the browser tests use
sys.path.insert(0, str(REPO / "tests"))
from chromium import require_page, start_chromium  # noqa: E402

ENGINE = REPO / "book" / "_ext" / "live_lab" / "gan_lab_engine.js"
# CPU milliseconds of the page's trainer at the lab's defaults, under Node; prints JSON.
NODE_TIMING = r"""
const engine = require(process.argv[1]), data = JSON.parse(process.argv[2]);
const d = data.defaults, loss = data.losses[d.loss], ring = data.datasets[d.dataset];
const trainer = new engine.Trainer({loss: d.loss, optimizer: d.optimizer, lrGenerator: d.lr_generator,
  lrDiscriminator: d.lr_discriminator, beta1: loss.beta1, beta2: loss.beta2, width: d.width, latentDim: d.latent_dim,
  batchSize: d.batch_size, numHidden: data.network.num_hidden, seed: d.seed});
const random = new engine.Random(1), p = data.pictures;
const batch = () => engine.sampleMixture(random, ring.centers, ring.std, d.batch_size);
function cpuMs(work, repeats) {
  for (let i = 0; i < 5; i++) work();
  const start = process.cpuUsage();
  for (let i = 0; i < repeats; i++) work();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000 / repeats;
}
console.log(JSON.stringify({
  full_step: cpuMs(() => trainer.trainStep([batch()]), 200),
  heatmap: cpuMs(() => trainer.heatmap(ring.bounds, p.resolution, loss.uses_sigmoid), 50),
  manifold: cpuMs(() => trainer.manifold(p.num_lines, p.points_per_line, p.latent_range), 50),
}));
"""


def node_cpu_milliseconds() -> dict:
    """CPU milliseconds of one full step, one heat map and one manifold of the page's trainer, under Node."""
    import subprocess

    from gan_teach.instruments.lab.page import page_data

    node = shutil.which("node")
    if node is None:
        raise FileNotFoundError(
            "node is missing: install Node.js to time the trainer's CPU work"
        )
    done = subprocess.run(
        [node, "-e", NODE_TIMING, str(ENGINE), json.dumps(page_data())],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def measure(seconds: float, screenshot: Path | None = None) -> dict:
    """Steps per second with and without drawing, each over ``seconds`` of Play-like running."""
    require_page(PAGE, "lab chapter")
    driver = start_chromium(script_timeout=4 * seconds + 60)
    try:
        driver.get(PAGE.as_uri())
        driver.execute_script(
            "document.querySelector('[data-gan-live-lab]').scrollIntoView();"
        )
        results = {}
        for name, drawing in (
            ("with drawing", True),
            ("without drawing", False),
        ):
            driver.execute_script("window.ganLiveLabs[0].reset();")
            results[name] = driver.execute_async_script(
                "const done = arguments[arguments.length - 1];"
                "window.ganLiveLabs[0].benchmark(arguments[0], arguments[1]).then(done);",
                seconds * 1000,
                drawing,
            )
        if screenshot is not None:
            driver.find_element("css selector", ".gan-live-lab").screenshot(
                str(screenshot)
            )
        results["user_agent"] = driver.execute_script(
            "return navigator.userAgent;"
        )
        return results
    finally:
        driver.quit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seconds",
        type=float,
        default=10.0,
        help="how long each measurement runs",
    )
    parser.add_argument(
        "--screenshot",
        type=Path,
        default=None,
        help="save a picture of the lab afterwards",
    )
    arguments = parser.parse_args()
    load_before = os.getloadavg()
    results = measure(arguments.seconds, arguments.screenshot)
    results["node_cpu_ms"] = node_cpu_milliseconds()
    results["machine"] = {
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average_before": load_before,
        "load_average_after": os.getloadavg(),
    }
    for name in ("with drawing", "without drawing"):
        result = results[name]
        extra = (
            f", {result['drawMs']:.0f} ms a picture"
            if name == "with drawing" and result.get("drawMs")
            else ""
        )
        print(
            f"{name}: {result['stepsPerSecond']:.0f} steps/s ({result['steps']} steps in {result['seconds']:.1f} s{extra})"
        )
    cpu = results["node_cpu_ms"]
    print(
        f"CPU time under Node: {cpu['full_step']:.1f} ms a full step, {cpu['heatmap']:.1f} ms a heat map, "
        f"{cpu['manifold']:.1f} ms a manifold"
    )
    load = results["machine"]
    print(
        f"{load['cpus']} CPUs; 1-minute load average {load['load_average_before'][0]:.1f} before, "
        f"{load['load_average_after'][0]:.1f} after (other jobs share the cores: the figures are wall-clock)"
    )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
