"""Shared fixtures for the policy tables: the templates shipped with the gateway."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.core.templates import TemplateSet, load_templates, read_template_dir

TEMPLATE_DIR = Path(__file__).resolve().parents[2] / "gateway" / "templates"


@pytest.fixture(scope="session")
def shipped_templates() -> TemplateSet:
    return load_templates(read_template_dir(str(TEMPLATE_DIR)))
