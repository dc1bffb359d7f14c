from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def _media_root(settings: Any, tmp_path: Path) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def write_csv(tmp_path: Path) -> Any:
    """Write text to a file in the given encoding; return its path."""

    def write(text: str, encoding: str = "utf-8", name: str = "leads.csv") -> Path:
        path = tmp_path / name
        path.write_bytes(text.encode(encoding))
        return path

    return write
