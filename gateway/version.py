"""The running version, from the installed distribution's metadata (one source: pyproject.toml)."""

from __future__ import annotations

from importlib import metadata


def version() -> str:
    """The installed version of the case-gateway distribution."""
    try:
        return metadata.version("case-gateway")
    except metadata.PackageNotFoundError:  # run from a source tree without installing
        return "0+unknown"
