"""The map labels' glyphs: signed-distance-field PBFs made from real fonts, and where they are served from.

MapLibre fetches ``/fonts/{fontstack}/{start}-{end}.pbf`` for every 256 code points a label needs.
The style names one fontstack, "Noto Sans Regular" (layers/tiles/style.py); it is built here from
Debian's Noto Sans (Latin, Greek, Cyrillic) and Noto Sans Arabic (Arabic and its presentation
forms, which the RTL text plugin shapes labels into), both from fonts-noto-core. The glyphs are
rendered with FreeType at 24 px and turned into 8-bit distance fields as MapLibre expects
(3 px buffer, radius 8, cutoff 0.25: the parameters of mapbox/tiny-sdf and node-fontnik). Ranges
without any glyph are not written, so the view answers 404 for them, which MapLibre accepts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

GLYPHS_DIR = Path(__file__).resolve().parent / "glyphs"
FONT_DIR = Path("/usr/share/fonts/truetype/noto")
SIZE_PX = 24
BUFFER_PX = 3
RADIUS_PX = 8
CUTOFF = 0.25
_RANGE = re.compile(r"^(\d+)-(\d+)$")
ARABIC_BLOCKS = ((0x0600, 0x06FF), (0x0750, 0x077F), (0x0870, 0x08FF), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF))


@dataclass(frozen=True)
class Fontstack:
    name: str
    latin: str  # file names under FONT_DIR
    arabic: str


FONTSTACKS = (Fontstack("Noto Sans Regular", "NotoSans-Regular.ttf", "NotoSansArabic-Regular.ttf"),)


def glyph_path(*, fontstack: str, glyph_range: str) -> Path | None:
    """Return the PBF of GLYPH_RANGE ("0-255") of the first font of FONTSTACK we have, or None."""
    match = _RANGE.match(glyph_range)
    if not match:
        return None
    start, end = int(match[1]), int(match[2])
    if start % 256 or end != start + 255 or end > 65535:
        return None
    for font in fontstack.split(","):
        font_dir = GLYPHS_DIR / font.strip()
        if font_dir.parent != GLYPHS_DIR:  # "..", "/" and the like never leave GLYPHS_DIR
            continue
        path = font_dir / f"{start}-{end}.pbf"
        if path.is_file():
            return path
    return None


# ---- protobuf (MapLibre's glyphs.proto), written by hand: three small messages ----------------
def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _zigzag(value: int) -> int:
    return (value << 1) ^ (value >> 31)


def _field_varint(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value)


def _field_bytes(number: int, value: bytes) -> bytes:
    return _varint(number << 3 | 2) + _varint(len(value)) + value


def _glyph_message(*, code: int, bitmap: bytes, width: int, height: int, left: int, top: int, advance: int) -> bytes:
    parts = [_field_varint(1, code)]
    if width and height:
        parts.append(_field_bytes(2, bitmap))
    parts += [_field_varint(3, width), _field_varint(4, height), _field_varint(5, _zigzag(left)),
              _field_varint(6, _zigzag(top)), _field_varint(7, advance)]
    return b"".join(parts)


def encode_range(*, name: str, start: int, glyphs: list[bytes]) -> bytes:
    """Return the PBF of one 256-code-point range: glyphs { stacks { name, range, glyphs* } }."""
    stack = _field_bytes(1, name.encode()) + _field_bytes(2, f"{start}-{start + 255}".encode())
    stack += b"".join(_field_bytes(3, glyph) for glyph in glyphs)
    return _field_bytes(1, stack)


# ---- signed distance fields ------------------------------------------------------------------
def _edt(grid):
    """Return the squared Euclidean distance transform of GRID (squared distances at seeds, inf elsewhere)."""
    import numpy as np

    def one_axis(f):
        # min over q of (p - q)^2 + f[q], along axis 0; glyph grids are ~40 px, so this is cheap.
        n = f.shape[0]
        idx = np.arange(n)
        d2 = (idx[:, None] - idx[None, :]) ** 2  # [p, q]
        return np.min(d2[:, :, None] + f[None, :, :], axis=1)

    return one_axis(one_axis(grid).T).T


def sdf(alpha):
    """Return the 8-bit distance field of ALPHA (0..1 coverage, already padded by BUFFER_PX)."""
    import numpy as np

    inf = 1e20
    outer = np.where(alpha >= 1, 0.0, np.where(alpha <= 0, inf, np.maximum(0.0, 0.5 - alpha) ** 2))
    inner = np.where(alpha >= 1, inf, np.where(alpha <= 0, 0.0, np.maximum(0.0, alpha - 0.5) ** 2))
    distance = np.sqrt(_edt(outer)) - np.sqrt(_edt(inner))
    values = np.round(255 - 255 * (distance / RADIUS_PX + CUTOFF))
    return np.clip(values, 0, 255).astype(np.uint8)


def _render(face, code: int, ascender: int) -> bytes:
    import freetype
    import numpy as np

    face.load_char(code, freetype.FT_LOAD_RENDER | freetype.FT_LOAD_NO_HINTING)
    slot = face.glyph
    bitmap = slot.bitmap
    advance = round(slot.advance.x / 64)
    width, height = bitmap.width, bitmap.rows
    if not width or not height:
        return _glyph_message(code=code, bitmap=b"", width=0, height=0, left=0, top=0, advance=advance)
    rows = np.array(bitmap.buffer, dtype=np.uint8).reshape(height, bitmap.pitch)[:, :width]
    alpha = np.zeros((height + 2 * BUFFER_PX, width + 2 * BUFFER_PX))
    alpha[BUFFER_PX:-BUFFER_PX, BUFFER_PX:-BUFFER_PX] = rows / 255.0
    return _glyph_message(code=code, bitmap=sdf(alpha).tobytes(), width=width, height=height,
                          left=slot.bitmap_left, top=slot.bitmap_top - ascender, advance=advance)


def _is_arabic(code: int) -> bool:
    return any(low <= code <= high for low, high in ARABIC_BLOCKS)


def build(*, out_dir: Path = GLYPHS_DIR, font_dir: Path = FONT_DIR, progress=None) -> dict[str, int]:
    """Write every non-empty range of every fontstack under OUT_DIR; return {fontstack: ranges written}."""
    import freetype

    written = {}
    for stack in FONTSTACKS:
        latin = freetype.Face(str(font_dir / stack.latin))
        arabic = freetype.Face(str(font_dir / stack.arabic))
        for face in (latin, arabic):
            face.set_char_size(SIZE_PX * 64)
        # One baseline for both faces: the Latin face's ascender, so mixed labels line up.
        ascender = round(latin.size.ascender / 64)
        latin_codes = {code for code, index in latin.get_chars() if index}
        arabic_codes = {code for code, index in arabic.get_chars() if index}
        by_range: dict[int, list[bytes]] = {}
        for code in sorted(latin_codes | arabic_codes):
            if code > 0xFFFF:
                continue
            face = arabic if (code in arabic_codes and (_is_arabic(code) or code not in latin_codes)) else latin
            by_range.setdefault(code // 256 * 256, []).append(_render(face, code, ascender))
        target = out_dir / stack.name
        target.mkdir(parents=True, exist_ok=True)
        for old in target.glob("*.pbf"):
            old.unlink()
        for start, glyphs in sorted(by_range.items()):
            (target / f"{start}-{start + 255}.pbf").write_bytes(encode_range(name=stack.name, start=start, glyphs=glyphs))
        written[stack.name] = len(by_range)
        if progress:
            progress(f"{stack.name}: {len(by_range)} ranges, {sum(map(len, by_range.values()))} glyphs")
    return written
