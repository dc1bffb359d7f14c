"""Forms of the import wizard: the upload and the column mapping."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model

from contacts.models import Source
from prospects.importing.columns import FIELDS, IGNORE, LABELS, MULTI_FIELDS
from prospects.importing.models import ImportJob, OnDuplicate
from prospects.importing.services import max_upload_bytes

NAME_OR_IDENTIFIER = {"email", "phone", "first_name", "last_name", "full_name"}


class UploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="UTF-8 is best; Excel's CSV (Windows-1252 or Central European "
        "1250), semicolons and tab-separated Unicode text also work.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.tsv,text/csv"}),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > max_upload_bytes():
            limit = max_upload_bytes() // 1024 // 1024
            raise forms.ValidationError(
                f"The file is {upload.size / 1024 / 1024:.1f} MB; the limit is "
                f"{limit} MB. Split it into smaller files."
            )
        return upload


class MappingForm(forms.Form):
    """One select per column of the file, plus what to do with duplicates."""

    on_duplicate = forms.ChoiceField(
        label="If a row matches an existing contact (same email or phone)",
        choices=OnDuplicate.choices,
        widget=forms.RadioSelect,
    )
    default_source = forms.ChoiceField(
        label="Source of new prospects",
        choices=Source.choices,
        help_text="Used when the file has no source column or the cell is blank.",
    )
    default_owner = forms.ModelChoiceField(
        label="Owner of new prospects",
        queryset=get_user_model().objects.none(),
        required=False,
        empty_label="Nobody",
    )

    def __init__(self, *args: Any, job: ImportJob, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial",
            {
                "on_duplicate": job.on_duplicate,
                "default_source": job.default_source,
                "default_owner": job.default_owner_id,
            },
        )
        super().__init__(*args, **kwargs)
        self.job = job
        self.fields["default_owner"].queryset = (
            get_user_model().objects.filter(is_active=True).order_by("first_name")
        )
        for index, header in enumerate(job.headers):
            self.fields[f"column_{index}"] = forms.ChoiceField(
                label=header or f"Column {index + 1}",
                choices=FIELDS,
                initial=job.mapping[index] if index < len(job.mapping) else IGNORE,
            )

    def columns(self) -> list[dict[str, Any]]:
        """Return each column's header, samples and select, for the table."""
        samples = self.job.samples
        return [
            {
                "header": header,
                "samples": samples[index] if index < len(samples) else [],
                "field": self[f"column_{index}"],
            }
            for index, header in enumerate(self.job.headers)
        ]

    def mapping(self) -> list[str]:
        return [self.cleaned_data[f"column_{i}"] for i in range(len(self.job.headers))]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        mapping = self.mapping()
        if not NAME_OR_IDENTIFIER & set(mapping):
            raise forms.ValidationError(
                "Choose at least one column for the email, the phone or a name."
            )
        for key in {k for k in mapping if k not in MULTI_FIELDS and k != IGNORE}:
            if mapping.count(key) > 1:
                raise forms.ValidationError(
                    f"{LABELS[key]} is chosen for more than one column; "
                    "set the others to ignore."
                )
        return data
