import random

import numpy as np
import pytest
import torch

from gan_teach import fast_mode, get_device, seed_everything


def test_seed_everything_seeds_every_generator():
    seed_everything(123)
    first = (random.random(), np.random.rand(), torch.rand(1).item())
    seed_everything(123)
    assert (
        random.random(),
        np.random.rand(),
        torch.rand(1).item(),
    ) == first
    with pytest.raises(ValueError, match="non-negative int"):
        seed_everything(-1)


def test_get_device_prefers_what_exists():
    assert get_device("cpu") == torch.device("cpu")
    expected = "cuda" if torch.cuda.is_available() else None
    if expected:
        assert get_device().type == "cuda"
    else:
        assert get_device().type in ("cpu", "mps")
        with pytest.raises(ValueError, match="sees no CUDA GPU"):
            get_device("cuda")


@pytest.mark.parametrize(
    "ci,fast,expected",
    [
        (None, None, False),
        ("true", None, True),
        ("true", "0", False),
        (None, "1", True),
        ("false", None, False),
    ],
)
def test_fast_mode_follows_ci_and_override(monkeypatch, ci, fast, expected):
    for name, value in (("CI", ci), ("GAN_TEACH_FAST", fast)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    assert fast_mode() is expected
