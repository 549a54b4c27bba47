"""A generator for the web page: weights, principal directions and seeded latents as one classic script.

The rendered book runs generators in the page itself, with no kernel (``gan_teach/web/live_latent.js``).
A page opened from ``file://`` may not ``fetch()`` a file, load a module or stream WebAssembly, but it may
load a classic ``<script src>``; so a web generator is a ``.js`` file that hands one JSON object to the
page::

    /* gan-teach web generator ... */
    (window.ganTeachWebGenerators = window.ganTeachWebGenerators || []).push(
    {"format": "gan-teach-web-generator", "version": 1, "name": ..., "layers": [...], ...}
    );

The same file can be dropped onto the page (a ``FileReader`` may read what the reader picks): the page
parses the JSON between ``push(`` and the last ``)`` and never evaluates the file.

What the object holds, all computed here from the generator itself (nothing is written by hand):

- ``layers``: the forward pass in order, read off the PyTorch modules: ``linear``, ``reshape``,
  ``batchnorm`` (eval mode: running statistics), ``relu``, ``leaky_relu``, ``conv_transpose``, ``tanh``;
  a conditional generator also has ``label_embedding``, whose row for the class is appended to ``z``.
  Weights are float16 (what ``gan-teach export`` ships), base64, little-endian, row-major.
- ``directions``: :func:`gan_teach.instruments.latent.principal_directions` of the generator, float32, with the
  share of the images' variance of each component (the sliders' names).
- ``seeds``: the page's *seeds*. The page cannot run PyTorch's random number generator, so a seed in the
  page is a row of this table: ``latents[s]`` is ``sample_latents(latent_dim, rows, s)`` (float32, exact),
  for ``s`` from 0 to ``count - 1``; the explorer and the interpolation use its first row, which is
  ``sample_latents(latent_dim, 1, s)[0]`` (checked here), the style grid the first ``r`` rows. So
  "seed 7" in the page is the same latent vector as ``seed=7`` in the notebook, for the seeds offered.
"""

from __future__ import annotations

import base64
import copy
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..checkpoints import load_checkpoint_generator
from ..conditional import ConditionalDCGANGenerator
from ..models import DCGANGenerator
from ..pretrained import load_generator, model_card
from .latent import principal_directions, sample_latents

__all__ = [
    "FORMAT",
    "VERSION",
    "web_generator",
    "write_web_generator",
    "export_web_checkpoint",
    "export_web_pretrained",
    "read_web_generator",
    "decode_array",
]

#: The ``format`` field of an exported web generator.
FORMAT = "gan-teach-web-generator"
#: The ``version`` of that format this library writes and reads.
VERSION = 1
_PUSH = "(window.ganTeachWebGenerators = window.ganTeachWebGenerators || []).push(\n"


def _encode(tensor: torch.Tensor, dtype: str) -> dict[str, Any]:
    """A tensor as ``{"dtype", "shape", "data"}``, its bytes little-endian and base64."""
    array = (
        tensor.detach()
        .cpu()
        .contiguous()
        .numpy()
        .astype("<f2" if dtype == "float16" else "<f4")
    )
    return {
        "dtype": dtype,
        "shape": list(tensor.shape),
        "data": base64.b64encode(array.tobytes()).decode("ascii"),
    }


def decode_array(entry: dict[str, Any]) -> np.ndarray:
    """The NumPy array of an encoded tensor of a web generator (inverse of the export's encoding)."""
    dtypes = {"float16": "<f2", "float32": "<f4"}
    if entry.get("dtype") not in dtypes:
        raise ValueError(
            f"a web generator's tensor has dtype float16 or float32, got {entry.get('dtype')!r}"
        )
    return np.frombuffer(
        base64.b64decode(entry["data"]), dtype=dtypes[entry["dtype"]]
    ).reshape(entry["shape"])


def _layers(generator: DCGANGenerator) -> list[dict[str, Any]]:
    """The forward pass of a DCGAN generator as a list of layers, read off its modules in forward order."""
    layers: list[dict[str, Any]] = []
    # DCGANGenerator.forward: project, view to start_shape, start_norm, blocks.
    modules = [
        *generator.project,
        "reshape",
        *generator.start_norm,
        *generator.blocks,
    ]
    for module in modules:
        if module == "reshape":
            layers.append(
                {"type": "reshape", "shape": list(generator.start_shape)}
            )  # (N, C * s * s) -> (N, C, s, s)
        elif isinstance(module, nn.Linear):
            layer = {
                "type": "linear",
                "in_features": module.in_features,
                "out_features": module.out_features,
                "weight": _encode(module.weight, "float16"),
            }  # (out, in)
            if module.bias is not None:
                layer["bias"] = _encode(module.bias, "float16")
            layers.append(layer)
        elif isinstance(module, nn.BatchNorm2d):
            layers.append(
                {
                    "type": "batchnorm",
                    "num_features": module.num_features,
                    "eps": module.eps,
                    **{
                        key: _encode(getattr(module, key), "float16")
                        for key in (
                            "weight",
                            "bias",
                            "running_mean",
                            "running_var",
                        )
                    },
                }
            )
        elif isinstance(module, nn.ConvTranspose2d):
            if (
                module.groups != 1
                or module.dilation != (1, 1)
                or module.output_padding != (0, 0)
            ):
                raise ValueError(
                    f"the web page runs plain transposed convolutions, got {module}"
                )
            layer = {
                "type": "conv_transpose",
                "in_channels": module.in_channels,
                "out_channels": module.out_channels,
                "kernel_size": module.kernel_size[0],
                "stride": module.stride[0],
                "padding": module.padding[0],
                "weight": _encode(module.weight, "float16"),
            }  # (in, out, k, k)
            if (
                module.kernel_size[0] != module.kernel_size[1]
                or module.stride[0] != module.stride[1]
                or module.padding[0] != module.padding[1]
            ):
                raise ValueError(
                    f"the web page runs square kernels, strides and paddings only, got {module}"
                )
            if module.bias is not None:
                layer["bias"] = _encode(module.bias, "float16")
            layers.append(layer)
        elif isinstance(module, nn.ReLU):
            layers.append({"type": "relu"})
        elif isinstance(module, nn.LeakyReLU):
            layers.append(
                {
                    "type": "leaky_relu",
                    "negative_slope": module.negative_slope,
                }
            )
        elif isinstance(module, nn.Tanh):
            layers.append({"type": "tanh"})
        else:
            raise ValueError(
                f"the web page cannot run a {type(module).__name__} layer ({module})"
            )
    return layers


def _seed_table(latent_dim: int, num_seeds: int, rows: int) -> torch.Tensor:
    """``sample_latents(latent_dim, rows, s)`` for each seed ``s``: ``(num_seeds, rows, latent_dim)``.

    The page reads seed ``s``'s latent vector as row 0 of its batch, and ``r`` styles as its first ``r``
    rows. That holds when ``latent_dim`` is a multiple of 16 (PyTorch fills normals in blocks of 16, so a
    longer batch begins with the shorter one); otherwise the table keeps one row per seed, exact for the
    explorer and the interpolation, and the style grid offers one style.
    """
    table = torch.stack(
        [
            sample_latents(latent_dim, rows, seed)
            for seed in range(num_seeds)
        ]
    )
    prefixes_agree = all(
        torch.equal(
            sample_latents(latent_dim, count, seed), table[seed, :count]
        )
        for seed in range(num_seeds)
        for count in range(1, rows + 1)
    )
    return (
        table
        if prefixes_agree
        else torch.stack(
            [
                sample_latents(latent_dim, 1, seed)
                for seed in range(num_seeds)
            ]
        )
    )


@torch.no_grad()
def web_generator(
    generator: nn.Module,
    name: str,
    *,
    num_directions: int = 4,
    num_seeds: int = 100,
    style_rows: int = 8,
    card: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The web page's description of ``generator``: layers, principal directions, a table of seeded latents.

    Args:
        generator: a :class:`~gan_teach.models.DCGANGenerator` or
            :class:`~gan_teach.conditional.ConditionalDCGANGenerator` (the page draws images; a toy MLP
            generator draws points, which the page cannot show: it raises ValueError).
        name: what the page calls it, e.g. ``"mnist-dcgan"``.
        num_directions: how many principal directions (sliders).
        num_seeds: the page offers seeds 0 to ``num_seeds - 1``.
        style_rows: rows per seed in the table (the style grid's largest number of styles; 1 for the rest).
        card: a model card; its FID, floor and training command are shown beside the generator.

    Returns:
        A dictionary of plain data (see the module's docstring); write it with :func:`write_web_generator`.
    """
    conditional = isinstance(generator, ConditionalDCGANGenerator)
    body = generator.body if conditional else generator
    if not isinstance(body, DCGANGenerator):
        raise ValueError(
            f"the web page runs DCGAN and conditional DCGAN generators (images), got {type(generator).__name__}. "
            "A toy (MLP) generator draws points in the plane: explore it in the notebooks instead."
        )
    # The page computes in float32 from float16 weights: the directions and the tests use that same generator.
    generator = (
        copy.deepcopy(generator).float().eval()
    )  # rounded below: leave the caller's generator alone
    for parameter_or_buffer in list(generator.parameters()) + list(
        generator.buffers()
    ):
        if parameter_or_buffer.is_floating_point():
            parameter_or_buffer.copy_(parameter_or_buffer.half().float())
    directions, explained = principal_directions(
        generator, num_directions=num_directions
    )  # (k, d), (k,)
    table = _seed_table(
        generator.latent_dim, num_seeds, style_rows if conditional else 1
    )
    payload: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "name": name,
        "model": "conditional" if conditional else "dcgan",
        "latent_dim": generator.latent_dim,
        "image_size": body.image_size,
        "channels": body.channels,
        "layers": _layers(body),
        "directions": {
            "vectors": _encode(directions, "float32"),
            "explained": [round(float(x), 6) for x in explained],
            "how": f"gan_teach.instruments.latent.principal_directions(generator, num_directions={num_directions})",
        },
        "seeds": {
            "first": 0,
            "count": num_seeds,
            "rows": table.shape[1],
            "latents": _encode(table, "float32"),
            "how": f"latents[s] = gan_teach.instruments.latent.sample_latents({generator.latent_dim}, {table.shape[1]}, seed=s)",
        },
    }
    if conditional:
        payload["num_classes"] = generator.num_classes
        payload["label_embedding"] = _encode(
            generator.label_embedding.weight, "float16"
        )  # (num_classes, label_dim)
    if card is not None:
        payload["card"] = {
            key: card[key]
            for key in (
                "dataset",
                "command",
                "fid",
                "fid_floor",
                "fid_ratio",
                "epochs",
            )
            if key in card
        }
    return payload


def write_web_generator(
    payload: dict[str, Any], path: str | os.PathLike
) -> Path:
    """Write a web generator (from :func:`web_generator`) as a classic script the page can load; returns the path."""
    path = Path(path)
    if path.suffix != ".js":
        raise ValueError(
            f"a web generator is a .js file (the page loads it with <script src>), got {path.name}"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    header = (
        f"/* gan-teach web generator {payload['name']!r} (format {VERSION}), written by gan_teach.instruments.webexport. "
        "Load it with a script tag, or drop it onto the book's latent-space page. */\n"
    )
    path.write_text(
        header
        + _PUSH
        + json.dumps(payload, separators=(",", ":"))
        + "\n);\n",
        encoding="utf-8",
    )
    return path


def read_web_generator(path: str | os.PathLike) -> dict[str, Any]:
    """The dictionary a web generator file holds (what the page parses), checked for its format."""
    text = Path(path).read_text(encoding="utf-8")
    start, end = text.find(_PUSH), text.rfind(")")
    if start < 0 or end < start:
        raise ValueError(
            f"{path} is not a gan-teach web generator (write one with gan-teach export --format web)"
        )
    payload = json.loads(text[start + len(_PUSH) : end])
    if payload.get("format") != FORMAT:
        raise ValueError(
            f"{path} holds {payload.get('format')!r}, not a {FORMAT}"
        )
    return payload


def export_web_checkpoint(
    checkpoint: str | os.PathLike,
    out: str | os.PathLike,
    name: str | None = None,
) -> dict[str, Any]:
    """Write the generator of a ``gan-teach train`` checkpoint (its EMA weights if any) as a web generator.

    Args:
        checkpoint: a ``checkpoint.pt``.
        out: the ``.js`` file to write.
        name: the name the page shows; default: the file's name without ``.js``.

    Returns:
        The payload written.
    """
    if Path(out).suffix != ".js":
        raise ValueError(
            f"--out must end in .js for --format web (the page loads a script), got {out}"
        )
    generator, config = load_checkpoint_generator(checkpoint, device="cpu")
    payload = web_generator(
        generator, name or Path(out).stem, card={"dataset": config.dataset}
    )
    write_web_generator(payload, out)
    return payload


def export_web_pretrained(name: str, out_dir: str | os.PathLike) -> Path:
    """Write the shipped generator ``name`` as ``out_dir/NAME.js`` (the book's build does, for all three)."""
    payload = web_generator(
        load_generator(name), name, card=model_card(name)
    )
    return write_web_generator(payload, Path(out_dir) / f"{name}.js")
