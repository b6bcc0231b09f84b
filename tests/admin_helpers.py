"""Browsers for the school administration tests."""

from __future__ import annotations

import pytest

from .factories import make_admin
from .helpers import login_as


@pytest.fixture
def browser(make_client):
    """A (logged-out) browser: make_client from tests/conftest.py."""
    return make_client


@pytest.fixture
def admin_client(app, browser):
    client = browser()
    login_as(client, make_admin())
    return client
