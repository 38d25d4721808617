"""Find the fonts of the parcel sketch at run time: an Arabic font and a Latin one, from Debian's packages.

``GISPORTAL_ARABIC_FONT`` / ``GISPORTAL_LATIN_FONT`` (paths to .ttf/.otf files) win over the lookup.
A missing font is a 500 ServerError whose detail names the package to install (and an error in the
log), never a PDF with empty boxes.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from gisportal.errors import ServerError

log = logging.getLogger(__name__)

# The first that exists is used; the Debian package providing each is named in the error. Noto Naskh
# first: with Amiri, pdftotext splits words after a reh (its glyph spacing reads as a gap: "الر ياض").
ARABIC_FONTS = (
    ("/usr/share/fonts/truetype/noto/NotoNaskhArabic-Regular.ttf", "fonts-noto-core"),
    ("/usr/share/fonts/truetype/noto/NotoSansArabic-Regular.ttf", "fonts-noto-core"),
    ("/usr/share/fonts/opentype/fonts-hosny-amiri/Amiri-Regular.ttf", "fonts-hosny-amiri"),
)
LATIN_FONTS = (
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", "fonts-dejavu-core"),
    ("/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf", "fonts-noto-core"),
)
LATIN_BOLD_FONTS = (
    ("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", "fonts-dejavu-core"),
    ("/usr/share/fonts/truetype/noto/NotoSans-Bold.ttf", "fonts-noto-core"),
)


def _missing(message: str) -> ServerError:
    """Return the error for a font the server lacks: an installation problem, not the caller's."""
    log.error("parcel sketch: %s", message)
    return ServerError(message)


@dataclass(frozen=True)
class SketchFonts:
    arabic: Path
    latin: Path
    latin_bold: Path


def _find(variable: str, candidates: tuple[tuple[str, str], ...], what: str) -> Path:
    chosen = os.environ.get(variable)
    if chosen:
        if not Path(chosen).is_file():
            raise _missing(f"{variable}={chosen!r} names no font file; the {what} font is needed for the "
                           "parcel sketch")
        return Path(chosen)
    for path, _ in candidates:
        if Path(path).is_file():
            return Path(path)
    packages = " or ".join(sorted({package for _, package in candidates}))
    raise _missing(f"no {what} font found for the parcel sketch: install Debian's {packages} (make run does), "
                   f"or set {variable} to a .ttf file")


def sketch_fonts() -> SketchFonts:
    """Return the fonts of the parcel sketch, or a ServerError saying what to install."""
    return SketchFonts(
        arabic=_find("GISPORTAL_ARABIC_FONT", ARABIC_FONTS, "Arabic"),
        latin=_find("GISPORTAL_LATIN_FONT", LATIN_FONTS, "Latin"),
        latin_bold=_find("GISPORTAL_LATIN_BOLD_FONT", LATIN_BOLD_FONTS, "Latin bold"),
    )
