"""Chinese text in figures: matplotlib's own fonts have no CJK glyphs, so a figure labelled in Chinese shows
empty boxes ("tofu") unless a CJK font is in matplotlib's list of families.

Importing :mod:`gan_teach.viz` (so ``import gan_teach``) calls :func:`use_cjk_font`: when a CJK font is
installed, it becomes the fallback family after matplotlib's default, so Latin text and numbers keep
DejaVu Sans and only the glyphs DejaVu lacks come from the CJK font. Nothing changes when none is installed.

Install one with your system's package manager, for example ``apt-get install fonts-noto-cjk`` (Debian,
Ubuntu, Colab: ``!apt-get -qq install fonts-noto-cjk``), then call :func:`use_cjk_font` again or restart the
kernel: a font installed after matplotlib built its font cache is found by searching the usual font folders.
"""

from __future__ import annotations

import glob
import os

import matplotlib
from matplotlib import font_manager

__all__ = ["CJK_FAMILIES", "cjk_font_family", "use_cjk_font"]

#: Sans-serif CJK families, in order of preference (Simplified Chinese first). The first one installed is used.
CJK_FAMILIES = (
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "Noto Sans SC",
    "WenQuanYi Zen Hei",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "PingFang SC",
    "Heiti SC",
    "SimHei",
    "Noto Sans CJK JP",
)
# Where a font installed after matplotlib built its cache may be: Linux, macOS and Windows folders.
_FONT_FOLDERS = (
    "/usr/share/fonts",
    "/usr/local/share/fonts",
    "~/.local/share/fonts",
    "~/.fonts",
    "/Library/Fonts",
    "/System/Library/Fonts",
    "C:/Windows/Fonts",
)
_FILE_PATTERNS = (
    "*CJK*.tt[cf]",
    "*CJK*.otf",
    "*SourceHanSans*",
    "wqy-*.tt[cf]",
    "msyh*.tt[cf]",
    "simhei.ttf",
)


def _installed_family() -> str | None:
    installed = {entry.name for entry in font_manager.fontManager.ttflist}
    return next(
        (family for family in CJK_FAMILIES if family in installed), None
    )


def cjk_font_family() -> str | None:
    """The first of :data:`CJK_FAMILIES` that matplotlib can use, or ``None`` when none is installed.

    A font file installed after matplotlib cached its list of fonts is registered here (the cache is not
    rebuilt), so ``apt-get install fonts-noto-cjk`` in a running notebook works without clearing it.
    """
    family = _installed_family()
    if family is not None:
        return family
    for folder in _FONT_FOLDERS:
        folder = os.path.expanduser(folder)
        if not os.path.isdir(folder):
            continue
        for pattern in _FILE_PATTERNS:
            for path in glob.glob(
                os.path.join(folder, "**", pattern), recursive=True
            ):
                try:
                    font_manager.fontManager.addfont(path)
                except (
                    OSError,
                    RuntimeError,
                    ValueError,
                ):  # unreadable or not a font matplotlib reads
                    continue
    return _installed_family()


def use_cjk_font() -> str | None:
    """Append the installed CJK family (if any) to ``matplotlib.rcParams["font.family"]``; return its name.

    matplotlib (3.6 and later) takes each glyph from the first family in the list that has it, so English
    figures are drawn exactly as before. Math text (``$...$``) uses its own fonts: keep Chinese outside the
    dollar signs of a label.
    """
    family = cjk_font_family()
    if family is None:
        return None
    families = matplotlib.rcParams["font.family"]
    families = [families] if isinstance(families, str) else list(families)
    if family not in families:
        matplotlib.rcParams["font.family"] = [*families, family]
    return family
