"""The measured throughput in the admin: read-only, with the fitted line and the default."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from dbgov.explain.throughput import record
from dbgov.models import Throughput

pytestmark = pytest.mark.django_db


def test_throughput_page_shows_the_fitted_line_and_cannot_be_edited():
    record("db.internal:5432", "index", 1e6, 0.52)
    record("db.internal:5432", "index", 1e5, 0.07)
    row = Throughput.objects.get()
    assert row.samples == 2
    client = Client()
    client.force_login(User.objects.create_superuser("t-admin", "t@example.com", "x"))
    page = client.get(reverse("admin:dbgov_throughput_changelist")).content.decode()
    fitted = row.fitted()
    assert fitted is not None
    assert f"{fitted.per_s:,.0f} rows/s" in page and "db.internal:5432" in page
    assert "1,500,000 rows/s + 10 ms" in page  # the default beside it
    assert client.get(reverse("admin:dbgov_throughput_add")).status_code == 403
