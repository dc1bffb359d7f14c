"""Forms of the prospect screens: they validate and normalise, nothing more."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model

from contacts.models import Channel, Contact, PermissionState, Source, Status
from contacts.normalize import (
    InvalidIdentifier,
    format_phone,
    normalize_email,
    normalize_phone,
)
from miocrm.templatetags.crm import contact_field

# Where a person a staff member types in came from; the other sources are
# set by the channels themselves.
MANUAL_SOURCES = [
    (Source.MANUAL.value, Source.MANUAL.label),
    (Source.REFERRAL.value, Source.REFERRAL.label),
    (Source.PHONE_CALL.value, Source.PHONE_CALL.label),
    (Source.WALK_IN.value, Source.WALK_IN.label),
    (Source.OTHER.value, Source.OTHER.label),
]
DETAIL_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "street",
    "city",
    "region",
    "postal_code",
    "country",
    "source",
    "source_detail",
    "status",
    "owner",
    "follow_up_on",
    "internal_info",
    "tags",
)


class OwnerField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return obj.get_full_name() or obj.get_username()


def owner_field(**kwargs: Any) -> OwnerField:
    users = get_user_model().objects.filter(is_active=True).order_by("first_name")
    return OwnerField(queryset=users, required=False, empty_label="Nobody", **kwargs)


class TagsField(forms.CharField):
    def to_python(self, value: Any) -> list[str]:
        text = super().to_python(value)
        tags = [tag.strip()[:50] for tag in text.split(",")]
        return list(dict.fromkeys(tag for tag in tags if tag))

    def prepare_value(self, value: Any) -> str:
        if isinstance(value, list):
            return ", ".join(value)
        return value or ""


class ContactForm(forms.ModelForm):
    """Name, contact details, address and follow-up of one person."""

    owner = owner_field()
    tags = TagsField(required=False, help_text="Separate tags with commas.")

    class Meta:
        model = Contact
        fields = DETAIL_FIELDS
        widgets = {
            "follow_up_on": forms.DateInput(attrs={"type": "date"}),
            "internal_info": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {
            "source_detail": "Source note",
            "internal_info": "Internal information",
            "follow_up_on": "Follow-up date",
        }
        help_texts = {"source_detail": "Who referred them, which event, ..."}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"] = forms.CharField(
            required=False, label="Email", widget=forms.EmailInput
        )
        self.fields["phone"] = forms.CharField(
            required=False,
            label="Phone",
            max_length=40,
            widget=forms.TextInput(attrs={"type": "tel"}),
        )
        if self.instance.phone and not self.is_bound:
            # As people write it; saving normalizes it back to the same E.164.
            self.initial["phone"] = format_phone(self.instance.phone)
        if self.instance.pk is None or self.instance.source in dict(MANUAL_SOURCES):
            self.fields["source"].choices = MANUAL_SOURCES
        self.fields["source"].initial = Source.MANUAL

    def clean_email(self) -> str:
        try:
            return normalize_email(self.cleaned_data["email"])
        except InvalidIdentifier:
            raise forms.ValidationError("Enter a valid email address.") from None

    def clean_phone(self) -> str:
        try:
            return normalize_phone(self.cleaned_data["phone"])
        except InvalidIdentifier:
            raise forms.ValidationError(
                "Enter a phone number, with the country code if it is abroad."
            ) from None

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        names = data.get("first_name") or data.get("last_name")
        if not (names or data.get("email") or data.get("phone")):
            raise forms.ValidationError("Give at least a name, an email or a phone.")
        if data.get("source") == Source.OTHER and not data.get("source_detail"):
            self.add_error("source_detail", "Say where they came from.")
        return data

    def changes(self) -> dict[str, Any]:
        """Return the cleaned values for contacts.services.update_contact."""
        return {name: self.cleaned_data[name] for name in DETAIL_FIELDS}

    def details(self) -> dict[str, Any]:
        """Return the values for a capture, without the identifiers and source."""
        skip = {"email", "phone", "source"}
        return {n: self.cleaned_data[n] for n in DETAIL_FIELDS if n not in skip}


class CreateForm(ContactForm):
    """A new prospect: also a first note and the permissions they gave."""

    first_note = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 3}), label="First note"
    )
    email_permission = forms.BooleanField(
        required=False, label="Agreed to be contacted by email"
    )
    sms_permission = forms.BooleanField(
        required=False, label="Agreed to be contacted by SMS"
    )


class PermissionForm(forms.Form):
    channel = forms.ChoiceField(choices=Channel.choices)
    state = forms.ChoiceField(choices=PermissionState.choices)
    reason = forms.CharField(
        max_length=300,
        help_text="Why it changes, e.g. “Asked by phone on 3 Dec to stop texts”.",
    )


class FollowUpForm(forms.Form):
    """The follow-up date alone, changed from the profile; blank clears it."""

    follow_up_on = forms.DateField(
        required=False,
        label="Follow-up date",
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class NoteForm(forms.Form):
    body = forms.CharField(
        label="Note",
        max_length=5000,
        widget=forms.Textarea(
            attrs={"rows": 2, "placeholder": "Write an internal note..."}
        ),
    )

    def clean_body(self) -> str:
        body = self.cleaned_data["body"].strip()
        if not body:
            raise forms.ValidationError("Write something first.")
        return body


class BulkForm(forms.Form):
    ACTIONS = [
        ("assign", "Assign owner"),
        ("status", "Set status"),
        ("convert", "Convert to customers"),
    ]
    ids = forms.TypedMultipleChoiceField(coerce=int, choices=[])
    action = forms.ChoiceField(choices=ACTIONS)
    owner = forms.CharField(required=False)
    status = forms.ChoiceField(choices=[("", "---"), *Status.choices], required=False)

    def clean_ids(self) -> list[int]:
        return self.cleaned_data["ids"][:500]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Any id is a valid choice here; the service ignores ids that are not
        # live contacts of the right stage.
        raw = self.data.getlist("ids") if hasattr(self.data, "getlist") else []
        self.fields["ids"].choices = [(value, value) for value in raw]
        self.fields["ids"].error_messages["required"] = "Select at least one row."

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        action = data.get("action")
        if action == "status" and not data.get("status"):
            self.add_error("status", "Choose a status.")
        if action == "assign":
            data["owner_user"] = self._owner(data.get("owner", ""))
        return data

    def _owner(self, value: str) -> Any:
        if value in ("", "none"):
            return None
        user = None
        if value.isdigit():
            users = get_user_model().objects.filter(is_active=True)
            user = users.filter(pk=int(value)).first()
        if user is None:
            self.add_error("owner", "Choose someone on the team.")
        return user


MERGE_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "street",
    "city",
    "region",
    "postal_code",
    "country",
    "status",
    "owner",
    "follow_up_on",
    "internal_info",
)


class MergeForm(forms.Form):
    """Both records field by field; a radio where they differ, to choose one.

    `rows` lists every field in order, each with both values as staff read
    them and, where the other record has a different value, its bound radio
    field (keep the survivor's or take the other's).
    """

    def __init__(self, *args: Any, survivor: Contact, loser: Contact, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.survivor, self.loser = survivor, loser
        self.rows: list[dict[str, Any]] = []
        for name in MERGE_FIELDS:
            mine, theirs = getattr(survivor, name), getattr(loser, name)
            label = contact_field(name)
            row = {"label": label, "mine": _shown(name, mine)}
            row["theirs"] = _shown(name, theirs)
            if mine != theirs and theirs not in (None, ""):
                self.fields[name] = forms.ChoiceField(
                    label=label,
                    choices=[("survivor", row["mine"]), ("loser", row["theirs"])],
                    initial="survivor" if mine not in (None, "") else "loser",
                    widget=forms.RadioSelect,
                    # Unanswered keeps the survivor's value (blanks get filled).
                    required=False,
                )
                row["field"] = self[name]
            self.rows.append(row)

    def values(self) -> dict[str, Any]:
        """Return the loser's values chosen to replace the survivor's."""
        return {
            name: getattr(self.loser, name)
            for name, choice in self.cleaned_data.items()
            if choice == "loser"
        }


def _shown(name: str, value: Any) -> str:
    """Return a field's value the way the profile shows it."""
    if value in (None, ""):
        return "—"
    if name == "status":
        return Status(value).label
    if name == "owner":
        return value.get_full_name() or value.get_username()
    if name == "phone":
        return format_phone(value)
    if name == "follow_up_on":
        return value.strftime("%a, %b %-d, %Y")
    return str(value)
