"""Shared test set-up: where the datasets are, the helpers' folder, and a seeded start for every test."""

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# The tests' shared helpers (``chromium``, ``course.grading_support``) import from here
# (``--import-mode=importlib`` puts no test folder on the path).
sys.path.insert(0, str(Path(__file__).resolve().parent))
# CI and the Makefile set GAN_TEACH_DATA; from a checkout with ../shared beside it, use that too.
if (
    not os.environ.get("GAN_TEACH_DATA")
    and (REPO.parent / "shared" / "data").is_dir()
):
    os.environ["GAN_TEACH_DATA"] = str(REPO.parent / "shared" / "data")


@pytest.fixture(autouse=True)
def _seeded():
    from gan_teach import seed_everything

    seed_everything(0)
    yield
