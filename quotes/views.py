from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Prefetch, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from bookings.models import Service
from contacts.models import Contact
from contacts.selectors import every_word
from quotes import selectors, services
from quotes.forms import (
    PersonForm,
    QuoteFilterForm,
    QuoteForm,
    RequestFilterForm,
    ServiceRequestForm,
    line_formset,
)
from quotes.models import Quote, QuoteLine, ServiceRequest

PAGE_SIZE = 50
CONTACT_FIELDS = ("contact__first_name", "contact__last_name", "contact__email")


def get_quote(pk: int) -> Quote:
    """Return a quote with its contact and lines, or 404."""
    lines = Prefetch("lines", queryset=QuoteLine.objects.order_by("position", "id"))
    return get_object_or_404(
        Quote.objects.select_related("contact", "created_by").prefetch_related(lines),
        pk=pk,
    )


def get_service_request(pk: int) -> ServiceRequest:
    return get_object_or_404(
        ServiceRequest.objects.select_related("contact", "service", "created_by"),
        pk=pk,
    )


def _prefill_contact(request: HttpRequest) -> Contact | None:
    raw = request.GET.get("contact", "")
    if not raw.isdigit():
        return None
    return Contact.objects.live().filter(pk=raw).first()


def _prefill_service(request: HttpRequest) -> Service | None:
    raw = request.GET.get("service", "")
    return Service.objects.filter(pk=raw).first() if raw.isdigit() else None


def _service_line(service: Service) -> dict[str, Any]:
    return {
        "description": service.name,
        "quantity": Decimal("1"),
        "unit_price": service.price,
        "tax_rate": Decimal("0"),
    }


def _search(q: str, *fields: str) -> Q:
    """Return a filter matching every word of the search in the row or contact."""
    return every_word(q, (*fields, *CONTACT_FIELDS), phone_fields=["contact__phone"])


def _period(queryset: QuerySet, days: str) -> QuerySet:
    if not days:
        return queryset
    return queryset.filter(created_at__gte=timezone.now() - timedelta(days=int(days)))


def _page(request: HttpRequest, queryset: QuerySet) -> Any:
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _query(request: HttpRequest) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


# Quotes


def quote_list(request: HttpRequest) -> HttpResponse:
    """List quotes, filtered by status, period and a search."""
    form = QuoteFilterForm(request.GET or None)
    quotes = Quote.objects.select_related("contact").prefetch_related("lines")
    if form.is_valid():
        data = form.cleaned_data
        if data["status"]:
            quotes = quotes.filter(status=data["status"])
        quotes = _period(quotes, data["period"])
        if q := data["q"].strip():
            query = _search(q, "notes", "lines__description")
            number = q.upper().removeprefix("Q-")
            if number.isdigit():
                query |= Q(number=int(number))
            quotes = quotes.filter(query).distinct()
    context = {
        "filter_form": form,
        "page": _page(request, quotes.order_by("-number")),
        "query": _query(request),
    }
    return render(request, "quotes/list.html", context)


def quote_create(request: HttpRequest) -> HttpResponse:
    """Write a quote for a picked contact or for someone typed in."""
    person_form = PersonForm(request.POST or None, prefix="person")
    form = QuoteForm(request.POST or None)
    lines = line_formset(request.POST or None)
    if request.method == "POST":
        if person_form.is_valid() & form.is_valid() & lines.is_valid():
            quote = services.create_quote(
                contact=person_form.cleaned_data["contact"],
                person=person_form.person(),
                lines=lines.lines(),
                actor=request.user,
                **form.cleaned_data,
            )
            messages.success(request, f"Quote {quote.display_number} created.")
            return redirect("quotes:detail", pk=quote.pk)
        person_form.picked = person_form.cleaned_data.get("contact")
    else:
        contact = _prefill_contact(request)
        person_form = PersonForm(
            initial={"contact": contact.pk if contact else None}, prefix="person"
        )
        person_form.picked = contact
        if service := _prefill_service(request):
            lines = line_formset(initial=[_service_line(service)])
    context = {"form": form, "person_form": person_form, "lines": lines}
    status = 422 if request.method == "POST" else 200
    return render(request, "quotes/create.html", context, status=status)


def quote_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Show and edit a quote: its status, validity, notes and lines."""
    quote = get_quote(pk)
    form = QuoteForm(request.POST or None, instance=quote)
    lines = line_formset(request.POST or None, quote=quote, extra=1)
    # & rather than "and": every form is validated, so all errors show.
    if request.method == "POST" and form.is_valid() & lines.is_valid():
        services.update_quote(
            quote=quote, fields=form.cleaned_data, lines=lines.lines()
        )
        messages.success(request, f"Quote {quote.display_number} saved.")
        return redirect("quotes:detail", pk=quote.pk)
    context = {"quote": quote, "form": form, "lines": lines}
    status = 422 if request.method == "POST" else 200
    return render(request, "quotes/detail.html", context, status=status)


def quote_print(request: HttpRequest, pk: int) -> HttpResponse:
    context = {"quote": get_quote(pk), "business_name": settings.BUSINESS_NAME}
    return render(request, "quotes/print.html", context)


def contact_search(request: HttpRequest) -> HttpResponse:
    """Return the contacts matching a search, as options for the picker."""
    q = (request.GET.get("contact_q") or "").strip()
    field = request.GET.get("field", "contact")
    if field not in ("contact", "person-contact"):
        field = "contact"
    contacts = selectors.pick_contacts(q)
    return render(
        request,
        "quotes/_contact_results.html",
        {"contacts": contacts, "q": q, "field": field},
    )


# Service requests


def request_list(request: HttpRequest) -> HttpResponse:
    form = RequestFilterForm(request.GET or None)
    requests = ServiceRequest.objects.select_related("contact", "service")
    if form.is_valid():
        data = form.cleaned_data
        if data["status"]:
            requests = requests.filter(status=data["status"])
        requests = _period(requests, data["period"])
        if q := data["q"].strip():
            requests = requests.filter(
                _search(q, "service_wanted", "description", "address")
            )
    context = {
        "filter_form": form,
        "page": _page(request, requests.order_by("-created_at", "-id")),
        "query": _query(request),
    }
    return render(request, "quotes/request_list.html", context)


def request_create(request: HttpRequest) -> HttpResponse:
    person_form = PersonForm(request.POST or None, prefix="person")
    form = ServiceRequestForm(request.POST or None)
    if request.method == "POST":
        if person_form.is_valid() & form.is_valid():
            service_request = services.create_service_request(
                contact=person_form.cleaned_data["contact"],
                person=person_form.person(),
                actor=request.user,
                **form.cleaned_data,
            )
            messages.success(request, "Service request saved.")
            return redirect("quotes:request_detail", pk=service_request.pk)
        person_form.picked = person_form.cleaned_data.get("contact")
    else:
        contact = _prefill_contact(request)
        person_form = PersonForm(
            initial={"contact": contact.pk if contact else None}, prefix="person"
        )
        person_form.picked = contact
        if contact:
            form = ServiceRequestForm(initial={"address": contact.address})
    context = {"form": form, "person_form": person_form}
    status = 422 if request.method == "POST" else 200
    return render(request, "quotes/request_create.html", context, status=status)


def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    service_request = get_service_request(pk)
    form = ServiceRequestForm(request.POST or None, instance=service_request)
    if request.method == "POST" and form.is_valid():
        services.update_service_request(
            request=service_request, fields=form.cleaned_data
        )
        messages.success(request, "Service request saved.")
        return redirect("quotes:request_detail", pk=service_request.pk)
    context = {"service_request": service_request, "form": form}
    status = 422 if request.method == "POST" else 200
    return render(request, "quotes/request_detail.html", context, status=status)
