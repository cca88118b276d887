"""Static asset URLs with a content hash, so browsers may cache them for long and still see changes."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any


def asset_url(static_dir: Path) -> Callable[[Mapping[str, Any], str], str]:
    digests: dict[str, str] = {}

    def asset(_context: Mapping[str, Any], path: str) -> str:
        if path not in digests:
            digests[path] = hashlib.sha256((static_dir / path).read_bytes()).hexdigest()[:12]
        return f"/static/{path}?v={digests[path]}"

    return asset
