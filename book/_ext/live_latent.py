"""A Sphinx extension that puts the shipped generators into the latent-space page, to run there with no kernel.

At the end of an HTML build it writes ``_static/live-latent/``: the runtime (``gan_teach/web/live_latent.js``
and its stylesheet) and one web generator per shipped generator, exported by
:func:`gan_teach.instruments.webexport.export_web_pretrained` from the weights in ``gan_teach/weights`` (so nothing
generated is committed, and the page always runs the weights the notebooks load). Only the pages that
hold a live widget (a ``<div class="gan-live">``) load these scripts, as classic ``<script src>`` tags,
which browsers run from ``file://`` too; a generator no widget opens with loads when a reader picks it. An export is reused while the weights and the exporting code are unchanged.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path
from typing import Any

STATIC = "live-latent"
GENERATORS = ("mnist-dcgan", "fashion-mnist-dcgan", "mnist-conditional")


def _pages_with_widgets(app, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Add the runtime and the generators to the pages that have a live widget (their HTML names it).

    The generators a widget opens with load with the page (deferred, so the text shows first); the others
    load when a reader picks them (a classic script added then, which works from file:// too).
    """
    body = context.get("body", "")
    if doctree is None or 'class="gan-live"' not in body:
        return
    shown = set(re.findall(r'data-generator="([^"]+)"', body))
    unknown = shown - set(GENERATORS)
    if unknown:
        raise ValueError(f"{pagename}: a live widget names {sorted(unknown)}; the book ships {', '.join(GENERATORS)}")
    on_demand = {name: {"url": context["pathto"](f"_static/{STATIC}/{name}.js", 1), "model": _model(name)}
                 for name in GENERATORS if name not in shown}
    # Called from html-page-context, add_js_file adds to this page only.
    app.add_js_file(None, body=f"window.ganTeachLazyGenerators = {json.dumps(on_demand, sort_keys=True)};")
    for name in GENERATORS:
        if name in shown:
            app.add_js_file(f"{STATIC}/{name}.js", loading_method="defer")
    app.add_js_file(f"{STATIC}/live_latent.js", loading_method="defer")
    app.add_css_file(f"{STATIC}/live_latent.css")


def _model(name: str) -> str:
    from gan_teach.pretrained import model_card

    return model_card(name)["model"]


def _write_assets(app, exception: Exception | None) -> None:
    """Write the runtime and the three web generators into the built site's ``_static/live-latent``."""
    if exception is not None or app.builder.format != "html":
        return
    import gan_teach
    import gan_teach.instruments.latent
    import gan_teach.instruments.webexport
    from gan_teach.pretrained import model_card

    web = Path(gan_teach.__file__).parent / "web"  # the runtime of the installed package, like its weights
    target = Path(app.outdir) / "_static" / STATIC
    target.mkdir(parents=True, exist_ok=True)
    for asset in ("live_latent.js", "live_latent.css"):
        shutil.copyfile(web / asset, target / asset)
    # The exports take a few seconds each (the principal directions): keep them while nothing they depend on changed.
    stamps_path = Path(app.doctreedir) / "live-latent-stamps.json"
    stamps: dict[str, Any] = json.loads(stamps_path.read_text()) if stamps_path.exists() else {}
    cache = Path(app.doctreedir) / STATIC
    # An export depends on the weights and on the code that exports them.
    code = hashlib.sha256(b"".join(Path(module.__file__).read_bytes() for module in (gan_teach.instruments.webexport, gan_teach.instruments.latent)))
    for name in GENERATORS:
        digest = model_card(name)["sha256"] + ":" + code.hexdigest()
        cached = cache / f"{name}.js"
        if stamps.get(name) != digest or not cached.exists():
            gan_teach.instruments.webexport.export_web_pretrained(name, cache)
            stamps[name] = digest
        shutil.copyfile(cached, target / f"{name}.js")
    stamps_path.write_text(json.dumps(stamps, indent=2))


def setup(app) -> dict:
    app.connect("html-page-context", _pages_with_widgets)
    app.connect("build-finished", _write_assets)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
