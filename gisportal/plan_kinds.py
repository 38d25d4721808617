"""The kinds a plan's DXF layers map to: one list for the DXF reader, the upload form and GISPORTAL_DXF_LAYERS.

Pure Python (no Django, no ezdxf): settings import it before any app loads, and plan_files, which imports no
Django, reads it too.
"""

from __future__ import annotations

import json

# What a plan feature is (subdivision.models.PlanFeature.kind); `building` is a footprint on a lot.
PLAN_FEATURE_KINDS = ("lot", "road", "open_space", "utility", "building")
# A layer mapped to this outlines blocks; its texts number the lots inside ("7/4": lot 4 of block 7).
BLOCK_KIND = "block"
DXF_LAYER_KINDS = (*PLAN_FEATURE_KINDS, BLOCK_KIND)


def kinds_in_words(kinds: tuple[str, ...] = DXF_LAYER_KINDS) -> str:
    """Return KINDS as "a, b or c"."""
    return f"{', '.join(kinds[:-1])} or {kinds[-1]}" if len(kinds) > 1 else "".join(kinds)


def dxf_layers_setting(text: str | None, *, name: str = "GISPORTAL_DXF_LAYERS") -> dict[str, str]:
    """Return the DXF layer → kind mapping of the setting's TEXT ({} when empty); raise ValueError naming NAME."""
    try:
        mapping = json.loads(text or "{}")
    except ValueError:
        raise ValueError(f"{name} must be a JSON object such as {{\"PARCELS\": \"lot\"}}") from None
    if not isinstance(mapping, dict) or not all(isinstance(layer, str) and layer.strip() and kind in DXF_LAYER_KINDS
                                                for layer, kind in mapping.items()):
        raise ValueError(f"{name} must map DXF layer names to {kinds_in_words()}")
    return mapping
