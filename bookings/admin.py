from __future__ import annotations

from django.contrib import admin

from bookings.models import Booking, BookingDraft, ClosedDay, Service


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["name", "duration_minutes", "price", "capacity", "active"]


@admin.register(Booking)
class BookingAdmin(admin.ModelAdmin):
    list_display = ["starts_at", "service", "name", "email", "status", "origin"]
    list_filter = ["status", "origin", "service"]
    raw_id_fields = ["contact"]


@admin.register(BookingDraft)
class BookingDraftAdmin(admin.ModelAdmin):
    list_display = ["pk", "status", "email", "phone", "service", "updated_at"]
    list_filter = ["status"]
    exclude = ["token"]
    raw_id_fields = ["contact"]


admin.site.register(ClosedDay)
