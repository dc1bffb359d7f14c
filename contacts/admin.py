from __future__ import annotations

from django.contrib import admin

from contacts.models import (
    Activity,
    CommunicationPermission,
    Contact,
    Identifier,
    Note,
    PossibleDuplicate,
)


class IdentifierInline(admin.TabularInline):
    model = Identifier
    extra = 0


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "stage",
        "status",
        "source",
        "email",
        "phone",
        "created_at",
    ]
    list_filter = ["stage", "status", "source"]
    search_fields = ["first_name", "last_name", "email", "phone"]
    raw_id_fields = ["owner", "converted_by", "merged_into"]
    readonly_fields = ["created_at", "updated_at", "last_activity_at"]
    inlines = [IdentifierInline]


@admin.register(Activity)
class ActivityAdmin(admin.ModelAdmin):
    list_display = ["contact", "kind", "source", "summary", "occurred_at"]
    list_filter = ["kind", "source"]
    raw_id_fields = ["contact", "actor"]


admin.site.register(Note, raw_id_fields=["contact", "author"])
admin.site.register(CommunicationPermission, raw_id_fields=["contact", "changed_by"])
admin.site.register(
    PossibleDuplicate, raw_id_fields=["contact", "other", "resolved_by"]
)
