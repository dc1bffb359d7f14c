from __future__ import annotations

from django.contrib import admin

from quotes.models import Quote, QuoteLine, ServiceRequest


class QuoteLineInline(admin.TabularInline):
    model = QuoteLine
    extra = 0


@admin.register(Quote)
class QuoteAdmin(admin.ModelAdmin):
    list_display = ["display_number", "contact", "status", "valid_until", "created_at"]
    list_filter = ["status"]
    raw_id_fields = ["contact"]
    inlines = [QuoteLineInline]


@admin.register(ServiceRequest)
class ServiceRequestAdmin(admin.ModelAdmin):
    list_display = ["service_wanted", "contact", "status", "origin", "created_at"]
    list_filter = ["status", "origin"]
    raw_id_fields = ["contact"]
