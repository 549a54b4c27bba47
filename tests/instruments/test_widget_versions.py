"""The book's widgets under the installed ipywidgets: 7.x (Colab) or 8.x.

Two ways in. Through Python: every keyword the widgets pass is a trait of
this ipywidgets (an unknown one is dropped with only a warning, and the
control would silently lose its tooltip or its style). Through a real
kernel, as Jupyter's or Colab's frontend drives it: the kernel runs the
book's widget cells, opens its models over the widget protocol, and answers
a slider moved or a button clicked in the "frontend" with a new picture.

The main environment has ipywidgets 8; ``make test-widgets7`` runs this
file and the widget tests beside it with 7.x in front of it on the path, and
sets GAN_TEACH_EXPECT_IPYWIDGETS so that the run proves which one it used.
"""

import os
import queue
import re
import sys
import warnings
from pathlib import Path

import ipywidgets
import pytest
import torch

from gan_teach.conditional import ConditionalDCGANGenerator
from gan_teach.instruments.lab import GANLab, LabSettings
from gan_teach.instruments.latent_widgets import (
    interpolation_widget,
    latent_explorer,
    style_grid_widget,
)
from gan_teach.models import DCGANGenerator

pytestmark = pytest.mark.widgets
REPO = Path(__file__).resolve().parents[2]
# What comes from the environment, not from our code: ipywidgets 7.7 and
# older open their comms with ipykernel's Comm, deprecated in ipykernel 6.22+.
ENVIRONMENT_WARNINGS = re.compile(r"ipykernel\.comm\.Comm")


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def test_the_ipywidgets_in_use_is_the_one_asked_for_and_above_the_floor():
    expected = os.environ.get("GAN_TEACH_EXPECT_IPYWIDGETS")
    if expected:  # make test-widgets7: the 7.x must shadow the main 8.x
        assert ipywidgets.__version__ == expected, ipywidgets.__file__
    [floor] = {
        re.search(r"ipywidgets>=([\d.]+)", (REPO / name).read_text())[1]
        for name in ("pyproject.toml", "requirements.txt")
    }
    assert _version(ipywidgets.__version__) >= _version(floor)
    # CI's 7.x run (make test-widgets7) tests the very floor we claim
    tested = re.search(
        r"WIDGETS7_VERSIONS \?= (\S+)", (REPO / "Makefile").read_text()
    )[1]
    assert _version(tested) == _version(floor + ".0")


# ------------------------------------------------------- through Python


def _small_lab() -> GANLab:
    settings = LabSettings(width=16, batch_size=32)
    return GANLab(settings, resolution=8, steps_per_frame=2)


def _generators():
    torch.manual_seed(0)
    return (
        DCGANGenerator(latent_dim=8, base_channels=8).eval(),
        ConditionalDCGANGenerator(latent_dim=8, base_channels=8).eval(),
    )


BUILDERS = {
    "latent explorer": lambda: latent_explorer(
        _generators()[0], num_directions=2, directions="random"
    ),
    "interpolation": lambda: interpolation_widget(_generators()[0]),
    "style grid": lambda: style_grid_widget(_generators()[1]),
    "lab": _small_lab,
}


@pytest.mark.parametrize("name", BUILDERS)
def test_every_keyword_the_widget_passes_is_a_trait_here(name):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        instrument = BUILDERS[name]()
    ours = [
        f"{warning.category.__name__}: {warning.message}"
        for warning in caught
        if not ENVIRONMENT_WARNINGS.search(str(warning.message))
    ]
    # e.g. "Passing unrecognized arguments to super(Checkbox).__init__"
    # (7.x, a trait that only 8.x has) or a deprecated name (8.x)
    assert ours == [], ours
    if isinstance(instrument, GANLab):
        instrument.close()


def test_the_lab_sends_its_tooltips_styles_and_layouts_to_the_frontend():
    lab = _small_lab()
    # get_state is what the kernel sends: a trait that exists is in it
    assert lab.step_button.get_state()["tooltip"].startswith("k D updates")
    assert lab.d_steps.style.get_state()["description_width"] == "initial"
    box = lab.layer_boxes["heatmap"]
    assert box.get_state()["indent"] is False
    assert box.layout.get_state()["width"] == "auto"
    assert lab.play.get_state()["interval"] == 200
    lab.close()


# ----------------------------------------------- through a kernel's comms

SET_UP = """
from gan_teach.instruments.lab import GANLab
from gan_teach.instruments.latent_widgets import (
    interpolation_widget, latent_explorer, style_grid_widget)
from gan_teach.pretrained import load_generator
import ipywidgets
generator = load_generator("mnist-dcgan")
conditional_generator = load_generator("mnist-conditional")
print(ipywidgets.__version__, ipywidgets.__file__)
"""

# The book's widget cells (latent.ipynb, lab.ipynb), the control a student
# moves, what the frontend sends for it, and how many pictures must change.
CELLS = {
    "latent explorer": (
        "explorer = latent_explorer(generator, num_directions=4)\nexplorer",
        ("FloatSliderModel", "PC1"),
        {"method": "update", "state": {"value": 2.0}},
        1,
    ),
    "interpolation": (
        "interpolation = interpolation_widget(generator)\ninterpolation",
        ("BoundedIntTextModel", "end seed"),
        {"method": "update", "state": {"value": 7}},
        3,  # the lerp row, the slerp row and the norms plot
    ),
    "style grid": (
        "styles_widget = style_grid_widget(conditional_generator)\n"
        "styles_widget",
        ("IntSliderModel", "styles"),
        {"method": "update", "state": {"value": 2}},
        1,
    ),
    "lab, Step button": (
        "lab = GANLab()\nlab",
        ("ButtonModel", "Step"),
        {"method": "custom", "content": {"event": "click"}},
        1,
    ),
    "lab, layer box": (
        "lab = GANLab()\nlab",
        ("CheckboxModel", "heatmap"),
        {"method": "update", "state": {"value": False}},
        1,
    ),
}


def test_the_cells_driven_here_are_the_books_own():
    """Same syntax tree as a code cell of the chapter (layout may differ)."""
    import ast
    import json

    from IPython.core.inputtransformer2 import TransformerManager

    def tree(source: str) -> str:  # %pip and friends made Python first
        return ast.dump(
            ast.parse(TransformerManager().transform_cell(source))
        )

    book_cells = {
        tree("".join(cell["source"]))
        for name in ("latent", "lab")
        for cell in json.loads(
            (REPO / "book" / f"{name}.ipynb").read_text()
        )["cells"]
        if cell["cell_type"] == "code"
    }
    for name, (cell, *_) in CELLS.items():
        assert tree(cell) in book_cells, name


class Kernel:
    """A Python kernel of this environment, and a client that speaks for a frontend."""

    def __init__(self) -> None:
        from jupyter_client import KernelManager

        self.manager = KernelManager(kernel_name="python3")
        # This interpreter, whatever kernels are installed: the path (and
        # with it the ipywidgets under test) is inherited by the kernel.
        self.manager.kernel_spec.argv[0] = sys.executable
        self.manager.start_kernel(env=dict(os.environ))
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=120)

    def _until_idle(self, parent_id: str) -> list[dict]:
        messages = []
        while True:
            try:
                message = self.client.get_iopub_msg(timeout=120)
            except queue.Empty:
                raise TimeoutError("the kernel went quiet") from None
            if message["parent_header"].get("msg_id") != parent_id:
                continue
            if message["msg_type"] == "error":
                raise RuntimeError(
                    "\n".join(message["content"]["traceback"])
                )
            if (
                message["msg_type"] == "status"
                and message["content"]["execution_state"] == "idle"
            ):
                return messages
            messages.append(message)

    def execute(self, code: str) -> list[dict]:
        return self._until_idle(self.client.execute(code))

    def send_to_widget(self, comm_id: str, data: dict) -> list[dict]:
        """What a frontend sends when a student moves a control."""
        message = self.client.session.msg(
            "comm_msg", {"comm_id": comm_id, "data": data}
        )
        self.client.shell_channel.send(message)
        return self._until_idle(message["header"]["msg_id"])

    def close(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


@pytest.fixture(scope="module")
def kernel():
    kernel = Kernel()
    printed = kernel.execute(SET_UP)
    streamed = "".join(
        m["content"]["text"] for m in printed if m["msg_type"] == "stream"
    )
    assert streamed.split()[0] == ipywidgets.__version__, streamed
    yield kernel
    kernel.close()


def _apply(messages: list[dict], models: dict[str, dict]) -> set[str]:
    """Apply the kernel's messages to ``models`` as a frontend does.

    ``models`` maps a comm id to ``{"state": ..., "buffers": {path: bytes}}``.
    A model opens with its first state (an image still empty), then gets
    updates (the first picture). Returns the ids whose picture was sent.
    """
    pictures_sent = set()
    for message in messages:
        content = message["content"]
        if message["msg_type"] == "comm_open":
            assert content["target_name"] == "jupyter.widget"
            models[content["comm_id"]] = {"state": {}, "buffers": {}}
        elif not (
            message["msg_type"] == "comm_msg"
            and content["data"].get("method") == "update"
            and content["comm_id"] in models
        ):
            continue
        model = models[content["comm_id"]]
        model["state"].update(content["data"]["state"])
        paths = content["data"].get("buffer_paths", [])
        for path, buffer in zip(paths, message["buffers"]):
            model["buffers"][tuple(path)] = bytes(buffer)
            if path == ["value"]:
                pictures_sent.add(content["comm_id"])
    return pictures_sent


@pytest.mark.slow
@pytest.mark.parametrize("name", CELLS)
def test_the_frontend_moves_a_control_and_gets_a_new_picture(kernel, name):
    cell, (model_name, label), frontend_message, num_pictures = CELLS[name]
    messages = kernel.execute(cell)
    models = {}
    _apply(messages, models)

    # Only the standard models, at the versions this ipywidgets speaks:
    # Colab's and Jupyter's managers have them built in (no CDN, no
    # third-party module to load).
    expected_versions = {
        "@jupyter-widgets/controls": (
            ipywidgets._version.__jupyter_widgets_controls_version__
        ),
        "@jupyter-widgets/base": (
            ipywidgets._version.__jupyter_widgets_base_version__
        ),
    }
    for model in models.values():
        module = model["state"]["_model_module"]
        assert module in expected_versions, module
        assert (
            model["state"]["_model_module_version"]
            == expected_versions[module]
        )
    [shown] = [
        m["content"]["data"]
        for m in messages
        if m["msg_type"] in ("display_data", "execute_result")
    ]
    view = shown["application/vnd.jupyter.widget-view+json"]
    assert view["model_id"] in models and view["version_major"] == 2
    assert "text/plain" in shown  # what a page without a kernel shows

    [control] = [
        comm_id
        for comm_id, model in models.items()
        if model["state"]["_model_name"] == model_name
        and model["state"].get("description", "").startswith(label)
    ]
    images = {
        comm_id: model["buffers"][("value",)]
        for comm_id, model in models.items()
        if model["state"]["_model_name"] == "ImageModel"
    }
    assert all(png[:4] == b"\x89PNG" for png in images.values())

    replies = kernel.send_to_widget(control, frontend_message)
    redrawn = _apply(replies, models)
    assert redrawn == set(images) and len(images) == num_pictures, name
    for comm_id in redrawn:
        png = models[comm_id]["buffers"][("value",)]
        assert png[:4] == b"\x89PNG" and png != images[comm_id]


# ------------------------------------------- what the notebooks store


def test_no_page_or_notebook_asks_for_ipywidgets_8():
    """The stored widgets are inert: nothing needs them, nothing pins 8.x.

    An executed widget cell stores its view (and the lab chapter its
    models, at 8.x's versions) in the notebook. The book loads no widget
    manager for them (from a CDN it would fail offline). Opened on Colab or
    in Jupyter, a notebook shows the text fallback or a dead copy until the
    cell runs (a 7.x frontend cannot restore 8.x models and says so in
    that output); then the kernel's own ipywidgets, 7.x or 8.x, makes new
    models. So the stored state forces no version, as long as no install
    line asks for 8.
    """
    import json

    import yaml

    config = yaml.safe_load((REPO / "_config.yml").read_text())
    assert config["sphinx"]["config"]["nb_ipywidgets_js"] == {}
    notebooks = sorted(REPO.glob("book/*.ipynb")) + sorted(
        REPO.glob("notebooks/book/*.ipynb")
    )
    widget_views = 0
    for path in notebooks:
        for cell in json.loads(path.read_text())["cells"]:
            source = "".join(cell["source"])
            assert not re.search(r"ipywidgets\s*[=~>]=\s*8", source), path
            for output in cell.get("outputs", []):
                data = output.get("data", {})
                if "application/vnd.jupyter.widget-view+json" in data:
                    widget_views += 1
                    assert "text/plain" in data, path.name
    assert widget_views >= 8  # the lab and three latent widgets, twice
