"""django-import-export's view of a prospect: the plain ModelResource.

The wizard does not import through it. A ModelResource imports row by row
(a lookup, a save and a savepoint per row, about 500 rows a second here), its
dry run writes and then rolls back, and its bulk mode rolls a whole batch
back when an email repeats inside it; it has no mapping step either. It is
kept as the declared column model of Contact and as the baseline the
benchmark measures the set-based engine against.
"""

from __future__ import annotations

from import_export import resources

from contacts.models import Contact

BASELINE_FIELDS = (
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
    "status",
)


class ProspectResource(resources.ModelResource):
    """Contacts keyed by email, as django-import-export imports them."""

    class Meta:
        model = Contact
        fields = BASELINE_FIELDS
        import_id_fields = ("email",)
        skip_unchanged = True
        report_skipped = False
