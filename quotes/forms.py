from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from contacts.models import Contact
from contacts.normalize import InvalidIdentifier, normalize_email, normalize_phone
from quotes.models import Quote, QuoteLine, QuoteStatus, RequestStatus, ServiceRequest
from quotes.services import Person

QUOTE_VALID_DAYS = 30
EMAIL_ERROR = "Enter a valid email address, like name@example.com."
PHONE_ERROR = "Enter a phone number with its area code, like (512) 555-0100."


def clean_email_value(value: str) -> str:
    try:
        return normalize_email(value)
    except InvalidIdentifier as error:
        raise ValidationError(EMAIL_ERROR) from error


def clean_phone_value(value: str) -> str:
    try:
        return normalize_phone(value)
    except InvalidIdentifier as error:
        raise ValidationError(PHONE_ERROR) from error


class PersonForm(forms.Form):
    """Either an existing contact (picked by search) or someone typed in."""

    contact = forms.ModelChoiceField(
        queryset=Contact.objects.live(), required=False, widget=forms.HiddenInput
    )
    new_name = forms.CharField(label="Name", max_length=200, required=False)
    new_email = forms.CharField(
        label="Email", max_length=254, required=False, widget=forms.EmailInput
    )
    new_phone = forms.CharField(
        label="Phone",
        max_length=40,
        required=False,
        widget=forms.TextInput(attrs={"type": "tel"}),
    )

    def clean_new_email(self) -> str:
        return clean_email_value(self.cleaned_data["new_email"])

    def clean_new_phone(self) -> str:
        return clean_phone_value(self.cleaned_data["new_phone"])

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        typed = any(data.get(f) for f in ("new_name", "new_email", "new_phone"))
        if data.get("contact") and typed:
            raise ValidationError(
                "Pick an existing contact or type in someone new, not both."
            )
        if not data.get("contact") and not typed and not self.errors:
            raise ValidationError(
                "Pick an existing contact, or type the name, email or phone "
                "of someone new."
            )
        if typed and not (data.get("new_email") or data.get("new_phone")):
            self.add_error("new_email", "Give an email or a phone for someone new.")
        return data

    def person(self) -> Person | None:
        if self.cleaned_data.get("contact"):
            return None
        return Person(
            name=self.cleaned_data["new_name"],
            email=self.cleaned_data["new_email"],
            phone=self.cleaned_data["new_phone"],
        )


class QuoteForm(forms.ModelForm):
    class Meta:
        model = Quote
        fields = ["status", "valid_until", "notes"]
        widgets = {
            "valid_until": forms.DateInput(attrs={"type": "date"}),
            "notes": forms.Textarea(attrs={"rows": 3}),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:
            valid_until = timezone.localdate() + timedelta(days=QUOTE_VALID_DAYS)
            self.initial.setdefault("valid_until", valid_until)


class QuoteLineForm(forms.ModelForm):
    class Meta:
        model = QuoteLine
        fields = ["description", "quantity", "unit_price", "tax_rate"]
        widgets = {
            "quantity": forms.NumberInput(attrs={"step": "0.01", "min": "0.01"}),
            "unit_price": forms.NumberInput(attrs={"step": "0.01", "min": "0"}),
            "tax_rate": forms.NumberInput(attrs={"step": "0.01", "min": "0"}),
        }


class BaseLineFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        if any(self.errors):
            return
        if not self.lines():
            raise ValidationError("Add at least one line.")

    def lines(self) -> list[dict[str, Any]]:
        return [
            {name: form.cleaned_data[name] for name in QuoteLineForm.Meta.fields}
            for form in self.forms
            if form.cleaned_data
            and not form.cleaned_data.get("DELETE")
            and form.cleaned_data.get("description")
        ]


class LineForm(QuoteLineForm):
    """A line in a formset, where wholly empty extra rows are skipped."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.empty_permitted = True
        self.use_required_attribute = False

    def has_changed(self) -> bool:
        # A row is blank until it has a description or a price: quantity and
        # tax rate come pre-filled, so they alone do not make a line.
        return any(
            str(self.data.get(self.add_prefix(name), "")).strip()
            for name in ("description", "unit_price")
        )


def line_formset(
    data: Any = None,
    quote: Quote | None = None,
    extra: int = 2,
    initial: list[dict[str, Any]] | None = None,
) -> Any:
    """Return the quote's lines as a formset, or `initial` ones for a new quote."""
    if quote is not None:
        initial = [
            {
                "description": line.description,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "tax_rate": line.tax_rate,
            }
            for line in quote.lines.all()
        ]
    formset_class = forms.formset_factory(
        LineForm,
        formset=BaseLineFormSet,
        extra=extra if data is None else 0,
        can_delete=True,
        max_num=100,
    )
    return formset_class(data=data, initial=initial or [], prefix="lines")


PERIODS = [
    ("", "Any time"),
    ("7", "Last 7 days"),
    ("30", "Last 30 days"),
    ("90", "Last 90 days"),
    ("365", "Last 12 months"),
]


class QuoteFilterForm(forms.Form):
    q = forms.CharField(label="Search", required=False)
    status = forms.ChoiceField(
        choices=[("", "Any status"), *QuoteStatus.choices], required=False
    )
    period = forms.ChoiceField(label="Created", choices=PERIODS, required=False)


class ServiceRequestForm(forms.ModelForm):
    class Meta:
        model = ServiceRequest
        fields = [
            "service",
            "service_wanted",
            "description",
            "address",
            "preferred_dates",
            "status",
        ]
        labels = {"service": "Service (from the list)", "service_wanted": "Wanted"}
        help_texts = {"preferred_dates": "For example: weekday mornings, Dec 10–12."}
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service_wanted"].required = False

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("service_wanted") and data.get("service"):
            data["service_wanted"] = data["service"].name
        if not data.get("service_wanted"):
            self.add_error("service_wanted", "Say what service is wanted.")
        return data


class RequestFilterForm(forms.Form):
    q = forms.CharField(label="Search", required=False)
    status = forms.ChoiceField(
        choices=[("", "Any status"), *RequestStatus.choices], required=False
    )
    period = forms.ChoiceField(label="Created", choices=PERIODS, required=False)
