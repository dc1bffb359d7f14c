"""The filters of CRM → Prospects and Customers, all kept in the query string."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import QuerySet
from django.utils import timezone

from contacts.models import Source, Status
from contacts.selectors import search_ways

PERIODS = [
    ("today", "Today"),
    ("7d", "Last 7 days"),
    ("30d", "Last 30 days"),
    ("90d", "Last 90 days"),
    ("month", "This month"),
    ("custom", "Custom (from–to)"),
]
FOLLOW_UPS = [("overdue", "Overdue"), ("today", "Due today"), ("week", "This week")]


def _local_midnight(day: Any) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


class ContactFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label="Search",
        method="filter_search",
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": "Name, email or phone",
                "data-search": "",
                "autocomplete": "off",
            }
        ),
    )
    # distinct=False: the default SELECT DISTINCT would defeat the indexes.
    source = django_filters.MultipleChoiceFilter(
        choices=Source.choices,
        distinct=False,
        widget=forms.CheckboxSelectMultiple,
    )
    period = django_filters.ChoiceFilter(
        label="Period", choices=PERIODS, method="filter_period", empty_label="Any time"
    )
    created_from = django_filters.DateFilter(
        label="From",
        field_name="created_at",
        method="filter_from",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    created_to = django_filters.DateFilter(
        label="To",
        field_name="created_at",
        method="filter_to",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    status = django_filters.ChoiceFilter(choices=Status.choices, empty_label="Any")
    owner = django_filters.ChoiceFilter(
        label="Owner", method="filter_owner", empty_label="Anyone"
    )
    follow_up = django_filters.ChoiceFilter(
        label="Follow-up",
        choices=FOLLOW_UPS,
        method="filter_follow_up",
        empty_label="Any",
    )
    has_email = django_filters.BooleanFilter(
        label="Has email", method="filter_has_email", widget=forms.CheckboxInput
    )
    has_phone = django_filters.BooleanFilter(
        label="Has phone", method="filter_has_phone", widget=forms.CheckboxInput
    )

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.alternatives: list[QuerySet] = []
        staff = get_user_model().objects.filter(is_active=True).order_by("first_name")
        self.staff = list(staff.only("id", "username", "first_name", "last_name"))
        choices = [("mine", "Mine"), ("none", "Unassigned")]
        choices += [(str(u.pk), u.get_full_name() or u.username) for u in self.staff]
        self.filters["owner"].extra["choices"] = choices

    def filter_search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset  # applied last, in filter_queryset

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        """Apply the filters, then the search box, keeping its alternatives.

        `alternatives` holds one queryset per way a row can match the search
        (all other filters applied), for selectors.list_page to count and
        sort each on its own index; empty when nothing was searched.
        """
        queryset = super().filter_queryset(queryset)
        text = self.form.cleaned_data.get("q") or ""
        queryset, self.alternatives = search_ways(queryset, text)
        return queryset

    def filter_period(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        today = timezone.localdate()
        starts = {
            "today": today,
            "7d": today - timedelta(days=6),
            "30d": today - timedelta(days=29),
            "90d": today - timedelta(days=89),
            "month": today.replace(day=1),
        }
        if value not in starts:
            return queryset  # "custom" is the from/to fields
        return queryset.filter(created_at__gte=_local_midnight(starts[value]))

    def _custom_period(self) -> bool:
        # From and To belong to "Custom": beside "Last 7 days" they would be
        # a second, hidden period.
        return self.form.cleaned_data.get("period") in (None, "", "custom")

    def filter_from(self, queryset: QuerySet, name: str, value: Any) -> QuerySet:
        if not self._custom_period():
            return queryset
        return queryset.filter(created_at__gte=_local_midnight(value))

    def filter_to(self, queryset: QuerySet, name: str, value: Any) -> QuerySet:
        if not self._custom_period():
            return queryset
        end = _local_midnight(value + timedelta(days=1))
        return queryset.filter(created_at__lt=end)

    def filter_owner(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == "mine":
            return queryset.filter(owner=self.user)
        if value == "none":
            return queryset.filter(owner__isnull=True)
        return queryset.filter(owner_id=int(value))

    def filter_follow_up(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        today = timezone.localdate()
        if value == "overdue":
            return queryset.filter(follow_up_on__lt=today)
        if value == "today":
            return queryset.filter(follow_up_on=today)
        week_end = today + timedelta(days=6 - today.weekday())
        return queryset.filter(follow_up_on__gte=today, follow_up_on__lte=week_end)

    def filter_has_email(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        return queryset.exclude(email="") if value else queryset

    def filter_has_phone(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        return queryset.exclude(phone="") if value else queryset

    @property
    def active(self) -> bool:
        """Return whether any filter narrows the list."""
        self.form.is_valid()  # cleans; valid filters apply even beside a bad one
        data = self.form.cleaned_data
        return any(value not in (None, "", [], False) for value in data.values())
