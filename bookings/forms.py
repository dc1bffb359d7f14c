from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from bookings.availability import business_zone, local_instant
from bookings.models import (
    UNIT_MINUTES,
    BookingSettings,
    BookingStatus,
    BusinessHours,
    ClosedDay,
    Service,
)
from quotes.forms import PersonForm, clean_email_value, clean_phone_value
from quotes.models import ServiceRequest

WEEKDAYS = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
]


class PublicBookingForm(forms.Form):
    """The booking page: a service, a slot and the visitor's details."""

    service = forms.ModelChoiceField(
        queryset=Service.objects.filter(active=True),
        widget=forms.HiddenInput,
        error_messages={
            "required": "Pick a service first.",
            "invalid_choice": "That service is no longer offered: pick another.",
        },
    )
    slot = forms.CharField(label="Time", required=False)
    name = forms.CharField(
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        error_messages={"required": "Enter your name."},
    )
    email = forms.CharField(
        max_length=254,
        required=False,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = forms.CharField(
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    address = forms.CharField(
        max_length=300,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
    )
    message = forms.CharField(
        label="Anything we should know?",
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    sms_opt_in = forms.BooleanField(label="Text me about my booking", required=False)
    # The honeypot: hidden from people, filled in by form-filling bots.
    website = forms.CharField(required=False)

    def __init__(self, *args: Any, action: str = "book", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.action = action

    def clean_email(self) -> str:
        return clean_email_value(self.cleaned_data["email"])

    def clean_phone(self) -> str:
        return clean_phone_value(self.cleaned_data["phone"])

    def clean_slot(self) -> datetime | None:
        raw = self.cleaned_data["slot"]
        if not raw:
            return None
        try:
            moment = datetime.fromisoformat(raw)
        except ValueError as error:
            raise ValidationError("Pick one of the times shown.") from error
        if moment.tzinfo is None:
            raise ValidationError("Pick one of the times shown.")
        return moment.astimezone(UTC)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.action == "book":
            if not data.get("slot") and "slot" not in self.errors:
                self.add_error("slot", "Pick a time, or request a quote instead.")
            if not data.get("email") and "email" not in self.errors:
                self.add_error("email", "Enter your email so we can confirm.")
        elif not (data.get("email") or data.get("phone")) and not self.errors:
            self.add_error("email", "Enter an email or a phone so we can reply.")
        if (
            data.get("sms_opt_in")
            and not data.get("phone")
            and "phone" not in self.errors
        ):
            self.add_error("phone", "Enter the phone number we should text.")
        return data

    @property
    def is_spam(self) -> bool:
        return bool(self.data.get("website"))


def _quarter(value: Any) -> Any:
    if value and (value.minute % UNIT_MINUTES or value.second):
        raise ValidationError("Use a time on the quarter hour (9:00, 9:15, ...).")
    return value


class StaffBookingForm(PersonForm):
    service = forms.ModelChoiceField(queryset=Service.objects.filter(active=True))
    day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    start_time = forms.TimeField(
        label="Start", widget=forms.TimeInput(attrs={"type": "time", "step": 900})
    )
    address = forms.CharField(max_length=300, required=False)
    message = forms.CharField(
        label="Notes", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    sms_opt_in = forms.BooleanField(label="They agreed to texts", required=False)
    send_confirmation = forms.BooleanField(
        label="Email them a confirmation", required=False, initial=True
    )
    service_request = forms.ModelChoiceField(
        queryset=ServiceRequest.objects.all(), required=False, widget=forms.HiddenInput
    )

    def clean_start_time(self) -> Any:
        return _quarter(self.cleaned_data["start_time"])

    def starts_at(self) -> datetime:
        return local_instant(self.cleaned_data["day"], self.cleaned_data["start_time"])

    def booking_fields(self) -> dict[str, Any]:
        """Return the arguments of bookings.services.book for this form."""
        data = self.cleaned_data
        who = self.person() or data["contact"]
        return {
            "service": data["service"],
            "starts_at": self.starts_at(),
            "contact": data["contact"],
            "name": who.name,
            "email": who.email,
            "phone": who.phone,
            "address": data["address"],
            "message": data["message"],
            "sms_opt_in": data["sms_opt_in"],
            "send_confirmation": data["send_confirmation"],
            "service_request": data["service_request"],
        }


class RescheduleForm(forms.Form):
    day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    start_time = forms.TimeField(
        label="Start", widget=forms.TimeInput(attrs={"type": "time", "step": 900})
    )
    notify = forms.BooleanField(
        label="Email them the new time", required=False, initial=True
    )

    def clean_start_time(self) -> Any:
        return _quarter(self.cleaned_data["start_time"])

    def starts_at(self) -> datetime:
        return local_instant(self.cleaned_data["day"], self.cleaned_data["start_time"])


class BookingFilterForm(forms.Form):
    WHEN = [("upcoming", "Upcoming"), ("past", "Past"), ("all", "All")]
    VIEWS = [("list", "List"), ("day", "Day"), ("week", "Week")]

    q = forms.CharField(label="Search", required=False)
    when = forms.ChoiceField(choices=WHEN, required=False)
    status = forms.ChoiceField(
        choices=[("", "Any status"), *BookingStatus.choices], required=False
    )
    service = forms.ModelChoiceField(
        queryset=Service.objects.all(), required=False, empty_label="Any service"
    )
    view = forms.ChoiceField(choices=VIEWS, required=False)
    day = forms.DateField(
        label="Date", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def value(self, name: str, default: Any = None) -> Any:
        if not self.is_valid():
            return default
        return self.cleaned_data.get(name) or default


class ServiceForm(forms.ModelForm):
    class Meta:
        model = Service
        fields = [
            "name",
            "description",
            "duration_minutes",
            "price",
            "price_is_from",
            "capacity",
            "active",
            "position",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "duration_minutes": forms.NumberInput(attrs={"step": UNIT_MINUTES}),
        }

    def clean_duration_minutes(self) -> int:
        minutes = self.cleaned_data["duration_minutes"]
        if minutes % UNIT_MINUTES:
            raise ValidationError("Use a multiple of 15 minutes.")
        return minutes


class BookingSettingsForm(forms.ModelForm):
    class Meta:
        model = BookingSettings
        fields = [
            "lead_time_minutes",
            "horizon_days",
            "slot_interval_minutes",
            "capacity",
        ]


class DayHoursForm(forms.Form):
    """Opening hours of one weekday; unticked "open" means closed."""

    is_open = forms.BooleanField(label="Open", required=False)
    opens = forms.TimeField(
        required=False, widget=forms.TimeInput(attrs={"type": "time", "step": 900})
    )
    closes = forms.TimeField(
        required=False, widget=forms.TimeInput(attrs={"type": "time", "step": 900})
    )

    def clean_opens(self) -> Any:
        return _quarter(self.cleaned_data["opens"])

    def clean_closes(self) -> Any:
        return _quarter(self.cleaned_data["closes"])

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("is_open") and not self.errors:
            if not data.get("opens") or not data.get("closes"):
                raise ValidationError("Give both the opening and closing time.")
            if data["opens"] >= data["closes"]:
                raise ValidationError("Closing must come after opening.")
        return data


HoursFormSet = forms.formset_factory(DayHoursForm, extra=0, min_num=7, max_num=7)


def hours_formset(data: Any = None) -> Any:
    hours = {h.weekday: h for h in BusinessHours.objects.all()}
    initial = [
        {
            "is_open": weekday in hours,
            "opens": hours[weekday].opens if weekday in hours else None,
            "closes": hours[weekday].closes if weekday in hours else None,
        }
        for weekday in range(7)
    ]
    formset = HoursFormSet(data=data, initial=initial, prefix="hours")
    for weekday, form in enumerate(formset.forms):
        form.weekday_name = WEEKDAYS[weekday]
    return formset


class ClosedDayForm(forms.ModelForm):
    class Meta:
        model = ClosedDay
        fields = ["date", "reason"]
        widgets = {"date": forms.DateInput(attrs={"type": "date"})}


def parse_day(raw: str | None, default: date | None) -> date | None:
    try:
        return date.fromisoformat(raw or "")
    except ValueError:
        return default


def local_date(moment: datetime) -> date:
    return moment.astimezone(business_zone()).date()
