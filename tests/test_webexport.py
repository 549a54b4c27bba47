"""The web format of a generator: it decodes to the same weights, and it describes the same forward pass.

The forward pass is checked here with a small NumPy interpreter of the format, so a wrong layer order or
a wrong weight layout fails without a browser; tests/test_live_latent.py checks the page's own JavaScript.
"""

import numpy as np
import pytest
import torch

from gan_teach import TrainConfig, create_state, save_checkpoint
from gan_teach.cli import main
from gan_teach.config import build_models
from gan_teach.instruments.latent import (
    principal_directions,
    render,
    sample_latents,
)
from gan_teach.instruments.webexport import (
    decode_array,
    export_web_checkpoint,
    read_web_generator,
    web_generator,
    write_web_generator,
)


def _small_generator(
    model: str = "dcgan", latent_dim: int = 16
) -> torch.nn.Module:
    generator, _ = build_models(
        TrainConfig(
            dataset="mnist",
            model=model,
            width=4,
            latent_dim=latent_dim,
            epochs=1,
        ).resolve()
    )
    for module in generator.modules():  # running statistics that differ from the defaults, so that batch norm matters
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.5, 0.5)
            module.running_var.uniform_(0.5, 2.0)
    return generator.eval()


def _rounded(generator: torch.nn.Module) -> torch.nn.Module:
    """The generator with its weights rounded to float16, as the page runs it."""
    state = {
        key: value.half().float() if value.is_floating_point() else value
        for key, value in generator.state_dict().items()
    }
    copy, _ = build_models(
        TrainConfig(
            dataset="mnist",
            model="conditional"
            if hasattr(generator, "num_classes")
            else "dcgan",
            width=4,
            latent_dim=generator.latent_dim,
            epochs=1,
        ).resolve()
    )
    copy.load_state_dict(state)
    return copy.eval()


def _numpy_forward(
    payload: dict, z: np.ndarray, labels: np.ndarray | None = None
) -> np.ndarray:
    """Run a web generator's layers with NumPy: ``(N, latent_dim)`` -> ``(N, C, S, S)``."""
    x = z.astype(np.float64)
    if payload["model"] == "conditional":
        x = np.concatenate(
            [x, decode_array(payload["label_embedding"])[labels]], axis=1
        )
    for layer in payload["layers"]:
        kind = layer["type"]
        if kind == "linear":
            x = x @ decode_array(layer["weight"]).T + (
                decode_array(layer["bias"]) if "bias" in layer else 0
            )
        elif kind == "reshape":
            x = x.reshape(len(x), *layer["shape"])
        elif kind == "batchnorm":
            mean, var = (
                decode_array(layer["running_mean"]),
                decode_array(layer["running_var"]),
            )
            weight, bias = (
                decode_array(layer["weight"]),
                decode_array(layer["bias"]),
            )
            x = (x - mean[:, None, None]) / np.sqrt(
                var[:, None, None] + layer["eps"]
            ) * weight[:, None, None] + bias[:, None, None]
        elif kind == "relu":
            x = np.maximum(x, 0)
        elif kind == "tanh":
            x = np.tanh(x)
        elif kind == "conv_transpose":
            weight, k, stride, pad = (
                decode_array(layer["weight"]),
                layer["kernel_size"],
                layer["stride"],
                layer["padding"],
            )
            n, _, side, _ = x.shape
            full = np.zeros(
                (
                    n,
                    layer["out_channels"],
                    (side - 1) * stride + k,
                    (side - 1) * stride + k,
                )
            )
            for y in range(side):
                for x_ in range(
                    side
                ):  # each input pixel adds its kernel-sized patch: (N, Cin) . (Cin, Cout, k, k)
                    full[
                        :,
                        :,
                        y * stride : y * stride + k,
                        x_ * stride : x_ * stride + k,
                    ] += np.einsum("nc,cokl->nokl", x[:, :, y, x_], weight)
            out_side = (side - 1) * stride - 2 * pad + k
            x = full[:, :, pad : pad + out_side, pad : pad + out_side]
            if "bias" in layer:
                x = x + decode_array(layer["bias"])[None, :, None, None]
        else:
            raise AssertionError(f"unexpected layer {kind}")
    return x


@pytest.mark.parametrize("model", ["dcgan", "conditional"])
def test_web_generator_round_trips_weights_and_forward_pass(
    tmp_path, model
):
    generator = _small_generator(model)
    path = write_web_generator(
        web_generator(generator, "tiny", num_seeds=5), tmp_path / "tiny.js"
    )
    assert path.read_text().startswith("/* gan-teach web generator 'tiny'")
    payload = read_web_generator(path)

    # The weights decode to the float16 weights of the generator, bit for bit.
    body = generator.body if model == "conditional" else generator
    linear, convolution = body.project[0], body.blocks[0]
    first = {}
    for layer in payload["layers"]:
        first.setdefault(layer["type"], layer)
    assert np.array_equal(
        decode_array(first["linear"]["weight"]),
        linear.weight.detach().half().numpy(),
    )
    assert np.array_equal(
        decode_array(first["conv_transpose"]["weight"]),
        convolution.weight.detach().half().numpy(),
    )
    assert [layer["type"] for layer in payload["layers"]] == [
        "linear",
        "reshape",
        "batchnorm",
        "relu",
        "conv_transpose",
        "batchnorm",
        "relu",
        "conv_transpose",
        "tanh",
    ]

    # The described forward pass is the generator's (its float16-rounded weights, which the page runs).
    z = torch.randn(6, generator.latent_dim)
    labels = (
        torch.tensor([0, 3, 9, 1, 5, 7]) if model == "conditional" else None
    )
    expected = render(
        _rounded(generator), z, labels
    ).numpy()  # (6, 1, 28, 28)
    got = _numpy_forward(
        payload, z.numpy(), labels.numpy() if labels is not None else None
    )
    # float32 sums in another order (NumPy's here, the page's in JavaScript) differ from PyTorch's by up to
    # about 1e-5 on these [-1, 1] outputs (1.09e-5 the worst of 30 random generators); a pixel is 1/255
    assert (
        got.shape == expected.shape and np.abs(got - expected).max() < 5e-5
    )
    assert not np.array_equal(
        expected[0], expected[1]
    )  # the check compares pictures, not blanks


def test_seeds_and_directions_are_what_pytorch_computes(tmp_path):
    generator = _small_generator("conditional", latent_dim=32)
    payload = web_generator(generator, "tiny", num_seeds=4, style_rows=3)
    latents = decode_array(payload["seeds"]["latents"])  # (4, 3, 32)
    assert latents.shape == (4, 3, 32) and payload["seeds"]["rows"] == 3
    for seed in range(4):
        assert np.array_equal(
            latents[seed, 0], sample_latents(32, 1, seed)[0].numpy()
        )  # the explorer's seed
        assert np.array_equal(
            latents[seed, :2], sample_latents(32, 2, seed).numpy()
        )  # the style grid's rows
    directions, explained = principal_directions(
        _rounded(generator), num_directions=4
    )
    assert np.array_equal(
        decode_array(payload["directions"]["vectors"]), directions.numpy()
    )
    assert payload["directions"]["explained"] == pytest.approx(
        explained.tolist(), abs=1e-6
    )
    assert payload["num_classes"] == 10


def test_latent_dim_that_breaks_batch_prefixes_keeps_one_exact_row_per_seed():
    # With latent_dim 8, PyTorch draws sample_latents(8, 1, s) and sample_latents(8, 3, s)[0] differently.
    payload = web_generator(
        _small_generator("conditional", latent_dim=8),
        "tiny",
        num_seeds=3,
        style_rows=3,
    )
    latents = decode_array(payload["seeds"]["latents"])
    assert latents.shape == (3, 1, 8)
    assert all(
        np.array_equal(
            latents[seed, 0], sample_latents(8, 1, seed)[0].numpy()
        )
        for seed in range(3)
    )


def test_web_generator_refuses_a_toy_generator():
    generator, _ = build_models(
        TrainConfig(dataset="ring", width=8).resolve()
    )
    with pytest.raises(
        ValueError, match="toy \\(MLP\\) generator draws points"
    ):
        web_generator(generator, "ring")


def test_cli_export_web_format(tmp_path, capsys):
    state = create_state(
        TrainConfig(dataset="mnist", width=4, latent_dim=16, epochs=1)
    )
    checkpoint = save_checkpoint(state, tmp_path / "checkpoint.pt")
    out = tmp_path / "my-generator.js"
    assert (
        main(
            [
                "export",
                "--checkpoint",
                str(checkpoint),
                "--format",
                "web",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert "my-generator" in capsys.readouterr().out
    payload = read_web_generator(out)
    assert (
        payload["name"] == "my-generator"
        and payload["latent_dim"] == 16
        and payload["card"] == {"dataset": "mnist"}
    )
    weight = decode_array(payload["layers"][0]["weight"])
    assert np.array_equal(
        weight, state.generator.project[0].weight.detach().half().numpy()
    )

    assert (
        main(["export", "--checkpoint", str(checkpoint), "--format", "web"])
        == 1
    )
    assert "--format web needs --out FILE.js" in capsys.readouterr().err
    assert (
        main(
            [
                "export",
                "--checkpoint",
                str(checkpoint),
                "--format",
                "web",
                "--out",
                str(tmp_path / "x.json"),
            ]
        )
        == 1
    )
    assert "must end in .js" in capsys.readouterr().err
    assert (
        main(["export", "--checkpoint", str(checkpoint)]) == 1
    )  # the float16 format still needs its name
    assert "export needs --name NAME" in capsys.readouterr().err


def test_cli_export_web_format_refuses_a_toy_checkpoint_in_one_line(
    tmp_path, capsys
):
    checkpoint = save_checkpoint(
        create_state(TrainConfig(dataset="ring", width=8, steps=1)),
        tmp_path / "ring.pt",
    )
    assert (
        main(
            [
                "export",
                "--checkpoint",
                str(checkpoint),
                "--format",
                "web",
                "--out",
                str(tmp_path / "ring.js"),
            ]
        )
        == 1
    )
    error = capsys.readouterr().err
    assert (
        error.count("\n") == 1
        and "DCGAN and conditional DCGAN generators" in error
    )
    assert not (tmp_path / "ring.js").exists()


def test_export_web_checkpoint_names_the_file_it_needs(tmp_path):
    with pytest.raises(ValueError, match="must end in .js"):
        export_web_checkpoint(tmp_path / "missing.pt", tmp_path / "out.txt")
    with pytest.raises(ValueError, match="not a gan-teach web generator"):
        (tmp_path / "other.js").write_text("console.log(1);\n")
        read_web_generator(tmp_path / "other.js")
