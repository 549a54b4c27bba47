import random

import numpy as np
import pytest
import torch

from gan_teach import fast_mode, get_device, seed_everything
from gan_teach.utils import available_devices


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


@pytest.mark.parametrize(
    "name, message",
    [
        (
            "gpu0",
            "unknown device 'gpu0': expected cpu, cuda, cuda:N or mps",
        ),
        ("meta", "unknown device 'meta'"),
        ("cuda:99", "was requested, but PyTorch sees"),
    ],
)
def test_get_device_refuses_what_this_machine_lacks(name, message):
    with pytest.raises(ValueError, match=message) as refused:
        get_device(name)
    assert "this machine has cpu" in str(refused.value)
    assert available_devices()[0] == "cpu"


def test_get_device_refuses_mps_where_there_is_none():
    if "mps" in available_devices():
        pytest.skip("this machine has Apple's MPS")
    with pytest.raises(ValueError, match="MPS is not available"):
        get_device("mps")


def test_seed_everything_refuses_seeds_beyond_64_bits():
    seed_everything(2**64 - 1)  # the largest PyTorch takes
    with pytest.raises(ValueError, match="below 2\\*\\*64"):
        seed_everything(2**64)
