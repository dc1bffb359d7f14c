from __future__ import annotations

import re

import pytest
from django import forms
from django.template.loader import render_to_string

pytestmark = pytest.mark.django_db


class _Form(forms.Form):
    email = forms.EmailField(help_text="We never share it.")


def test_a_fields_help_text_is_what_its_input_describes_itself_by() -> None:
    html = render_to_string("includes/field.html", {"field": _Form()["email"]})

    described_by = re.search(r'aria-describedby="([^"]+)"', html).group(1)
    assert f'id="{described_by}"' in html


def test_the_booking_page_title_is_the_business_not_the_crm(client: object) -> None:
    html = client.get("/book/").content.decode()

    assert "MioCRM" not in re.search(r"<title>(.*?)</title>", html, re.S).group(1)


def test_staff_pages_name_the_crm_in_their_title(staff_client: object) -> None:
    html = staff_client.get("/prospects/").content.decode()

    assert re.search(r"<title>Prospects · MioCRM</title>", html)
