"""The book's API reference (``book/api*.md``) covers the whole public library, once each.

The pages are explicit ``automodule`` directives, so a new public module or a new name in a
module's ``__all__`` could be forgotten; these tests read the pages' sources and fail when that
happens. The built pages are checked in a browser by ``tests/test_rendered_book.py``.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import json
import os
import pkgutil
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

import gan_teach

REPO = Path(__file__).resolve().parents[1]
API_PAGES = sorted((REPO / "book").glob("api*.md"))
LANDING = REPO / "book" / "api.md"
# ```{eval-rst} .. automodule:: name, then its options, one per line
AUTOMODULE = re.compile(
    r"^\.\. automodule:: (?P<module>\S+)\n(?P<options>(?:   :[\w-]+:.*\n)*)",
    re.MULTILINE,
)


def public_modules() -> list[str]:
    """Every module of the package, ``__main__`` entry points aside."""
    return ["gan_teach"] + [
        info.name
        for info in pkgutil.walk_packages(gan_teach.__path__, "gan_teach.")
        if not info.name.endswith("__main__")
    ]


def automodules() -> dict[str, dict[str, str]]:
    """Module -> its automodule options, over every API page."""
    found: dict[str, dict[str, str]] = {}
    for page in API_PAGES:
        for match in AUTOMODULE.finditer(page.read_text(encoding="utf-8")):
            module = match.group("module")
            assert module not in found, f"{module} is documented twice"
            options = re.findall(
                r"^   :([\w-]+):[ \t]*(.*)$", match.group("options"), re.M
            )
            found[module] = dict(options)
    return found


def defined_in(thing: object) -> str | None:
    """A class's or function's module (``__module__``); None for data such as a tuple."""
    if inspect.isclass(thing) or inspect.isroutine(thing):
        return thing.__module__
    wrapped = getattr(thing, "__wrapped__", None)  # functools.lru_cache
    return defined_in(wrapped) if wrapped is not None else None


def documented() -> dict[tuple[str, int], list[str]]:
    """``(name, id(object))`` -> the modules whose automodule documents it.

    A re-export is the same object under the same name, so it has the same key."""
    places: dict[tuple[str, int], list[str]] = {}
    for module, options in automodules().items():
        if "members" not in options:
            continue
        excluded = {
            name.strip()
            for name in options.get("exclude-members", "").split(",")
            if name.strip()
        }
        imported = importlib.import_module(module)
        for name in getattr(imported, "__all__", []):
            if name not in excluded:
                key = (name, id(getattr(imported, name)))
                places.setdefault(key, []).append(module)
    return places


def test_api_pages_are_in_the_reference_part():
    toc = yaml.safe_load((REPO / "_toc.yml").read_text(encoding="utf-8"))
    reference = next(
        part for part in toc["parts"] if part["caption"] == "Reference"
    )
    api = next(
        chapter
        for chapter in reference["chapters"]
        if chapter["file"] == "book/api"
    )
    in_toc = {"book/api"} | {
        section["file"] for section in api.get("sections", [])
    }
    on_disk = {f"book/{page.stem}" for page in API_PAGES}
    assert in_toc == on_disk, (
        f"book/api*.md and _toc.yml's API section differ: {sorted(in_toc ^ on_disk)}"
    )


def test_every_module_has_an_automodule():
    missing = sorted(set(public_modules()) - set(automodules()))
    assert not missing, (
        f"modules with no `.. automodule::` in book/api*.md: {missing}; "
        "add each under the topic it belongs to"
    )


def test_every_public_name_is_documented_once_where_it_is_defined():
    places = documented()
    forgotten, twice, elsewhere = [], [], []
    for module in public_modules():
        imported = importlib.import_module(module)
        for name in getattr(imported, "__all__", []):
            thing = getattr(imported, name)
            where = places.get((name, id(thing)), [])
            home = defined_in(thing)
            if not where:
                forgotten.append(f"{module}.{name}")
            elif len(where) > 1:
                twice.append(f"{name} (in {', '.join(where)})")
            elif home is not None and where != [home]:
                elsewhere.append(
                    f"{name} (in {where[0]}, defined in {home})"
                )
    assert not forgotten, (
        f"public names no API page documents: {forgotten}. Give the "
        "module :members:, or document the name where it is defined"
    )
    assert not twice, (
        f"documented more than once (list the re-export in the importing "
        f"module's :exclude-members:): {sorted(set(twice))}"
    )
    assert not elsewhere, (
        f"document these where they are defined, so that references to "
        f"them resolve: {sorted(set(elsewhere))}"
    )


def test_the_landing_page_links_every_name_of_the_package():
    """``from gan_teach import X``: every X is on book/api.md, linked to its entry."""
    text = LANDING.read_text(encoding="utf-8")
    places = documented()
    unlinked = []
    for name in gan_teach.__all__:
        where = places.get((name, id(getattr(gan_teach, name))), ["?"])
        target = f"{where[0]}.{name}"
        if f"`~{target}`" not in text:
            unlinked.append(f"{name} (expected a reference to {target})")
    assert not unlinked, f"book/api.md does not list: {unlinked}"


def test_nitpick_ignores_only_other_projects():
    config = yaml.safe_load(
        (REPO / "_config.yml").read_text(encoding="utf-8")
    )
    sphinx = config["sphinx"]["config"]
    patterns = [
        re.compile(target) for _, target in sphinx["nitpick_ignore_regex"]
    ]
    assert not sphinx.get("nitpick_ignore"), (
        "ignore by pattern, not by name"
    )

    def ignored(name: str) -> bool:
        return any(pattern.fullmatch(name) for pattern in patterns)

    ours = [f"{module}.x" for module in public_modules()] + ["gan_teach"]
    assert not [name for name in ours if ignored(name)]
    for theirs in ("torch.Tensor", "numpy.ndarray", "pathlib.Path"):
        assert ignored(theirs), theirs


def _extension():
    path = REPO / "book" / "_ext" / "api_reference.py"
    spec = importlib.util.spec_from_file_location("api_reference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_train_config_table_lists_every_field_with_its_help():
    import dataclasses

    from gan_teach.config import TrainConfig

    table = "\n".join(_extension().config_fields())
    for field in dataclasses.fields(TrainConfig):
        assert f"* - ``{field.name}``" in table, field.name
    # the help is the comment beside the field in config.py
    assert "seeds the weights, the noise and the data order" in table


def test_importing_the_library_trains_and_downloads_nothing(tmp_path):
    """What autodoc does when the book is built: import every module. Nothing may run a network,
    touch the network or write a file (the data folder and the home folder stay empty)."""
    data, home_dir = tmp_path / "data", tmp_path / "home"
    data.mkdir()
    home_dir.mkdir()
    script = textwrap.dedent(
        """
        import json, pkgutil, importlib, socket
        import torch

        calls = []
        torch.nn.Module.__call__ = lambda self, *a, **k: calls.append(
            type(self).__name__)

        def no_network(*args, **kwargs):
            raise OSError("importing gan_teach must not use the network")

        socket.socket.connect = no_network
        import gan_teach
        for info in pkgutil.walk_packages(gan_teach.__path__, "gan_teach."):
            if not info.name.endswith("__main__"):
                importlib.import_module(info.name)
        print(json.dumps(calls))
        """
    )
    environment = {
        **os.environ,
        "GAN_TEACH_DATA": str(data),
        "HOME": str(home_dir),
        "PYTHONPATH": str(REPO),
        "MPLCONFIGDIR": str(tmp_path / "matplotlib"),
    }
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env=environment,
        cwd=tmp_path,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    forward_passes = json.loads(result.stdout.strip().splitlines()[-1])
    assert forward_passes == [], f"importing ran networks: {forward_passes}"
    assert list(data.iterdir()) == [], (
        "importing wrote into the data folder"
    )
    written = [path for path in home_dir.rglob("*") if path.is_file()]
    assert written == [], f"importing wrote {written}"


@pytest.mark.parametrize("page", API_PAGES, ids=lambda page: page.stem)
def test_api_pages_use_eval_rst(page):
    """autodoc writes reStructuredText: in MyST a bare ```{automodule} would print it raw."""
    text = page.read_text(encoding="utf-8")
    assert not re.search(r"```\{auto\w+\}", text), (
        f"{page.name}: wrap autodoc directives in ```{{eval-rst}}"
    )
