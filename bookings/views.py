from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core import signing
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_POST
from django_ratelimit.decorators import ratelimit

from bookings import services
from bookings.availability import (
    bookable_days,
    business_zone,
    free_slots,
    local_day_bounds,
    local_today,
)
from bookings.forms import (
    BookingFilterForm,
    BookingSettingsForm,
    ClosedDayForm,
    PublicBookingForm,
    RescheduleForm,
    ServiceForm,
    StaffBookingForm,
    hours_formset,
    local_date,
    parse_day,
)
from bookings.models import (
    Booking,
    BookingOrigin,
    BookingSettings,
    ClosedDay,
    DraftStatus,
    Service,
)
from contacts.models import Contact
from contacts.selectors import every_word
from miocrm.access import admin_required
from quotes.models import RequestOrigin, ServiceRequest
from quotes.services import Person, create_service_request

DRAFT_COOKIE = "booking_draft"
# Draft tokens are issued by this server, signed, so a browser cannot pick
# one of its own (or a garbage cookie reach the database).
_DRAFT_SIGNER = signing.Signer(salt="bookings.draft")
SEARCH_FIELDS = (
    "name",
    "email",
    "contact__first_name",
    "contact__last_name",
    "contact__email",
)
DRAFT_COOKIE_AGE = 30 * 24 * 3600
CONFIRM_SALT = "bookings.confirmed"
REQUEST_SALT = "bookings.requested"
RATE_LIMITED_MESSAGE = (
    "Too many tries from your network in the last minute. Please wait a "
    "minute, then press the button again: what you typed is kept."
)


# The public booking page


def _service_from(raw: Any) -> Service | None:
    if not str(raw or "").isdigit():
        return None
    return Service.objects.filter(pk=raw, active=True).first()


def _slot_choices(slots: list[datetime]) -> list[tuple[str, str]]:
    """Return (value, label) pairs; on a fall-back day labels name the offset."""
    zone = business_zone()
    local = [slot.astimezone(zone) for slot in slots]
    labels = [date_format(moment, "g:i A") for moment in local]
    if len(set(labels)) < len(labels):
        # 1:00 AM happens twice when clocks go back: say which one.
        labels = [
            f"{label} {moment.tzname()}"
            for label, moment in zip(labels, local, strict=True)
        ]
    return [
        (slot.isoformat(), label) for slot, label in zip(slots, labels, strict=True)
    ]


def _choice_context(service: Service | None, day: date | None) -> dict[str, Any]:
    """Return the services, the days with free slots and the day's slots."""
    rules = BookingSettings.load()
    context: dict[str, Any] = {
        "services": Service.objects.filter(active=True),
        "service": service,
        "days": [],
        "day": None,
        "slots": [],
    }
    if service is None:
        return context
    slots = free_slots(service, bookable_days(rules), rules=rules)
    days = [d for d, day_slots in slots.items() if day_slots]
    if day not in days:
        day = days[0] if days else None
    context.update(days=days, day=day, slots=_slot_choices(slots[day] if day else []))
    return context


def _draft_token(request: HttpRequest) -> str:
    """Return the token of the browser's draft cookie, if this server issued it."""
    try:
        return _DRAFT_SIGNER.unsign(request.COOKIES.get(DRAFT_COOKIE, ""))
    except signing.BadSignature:
        return ""


def _set_draft_cookie(response: HttpResponse, token: str) -> None:
    response.set_cookie(
        DRAFT_COOKIE,
        _DRAFT_SIGNER.sign(token),
        max_age=DRAFT_COOKIE_AGE,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )


def _finish(request: HttpRequest, form: PublicBookingForm, token: str) -> HttpResponse:
    data = form.cleaned_data
    if form.action == "book":
        booking = services.book(
            service=data["service"],
            starts_at=data["slot"],
            name=data["name"],
            email=data["email"],
            phone=data["phone"],
            address=data["address"],
            message=data["message"],
            sms_opt_in=data["sms_opt_in"],
            draft_token=token,
        )
        signed = signing.dumps(booking.pk, salt=CONFIRM_SALT)
        return redirect("bookings:public_confirmed", signed=signed)
    service_request = create_service_request(
        person=Person(
            name=data["name"],
            email=data["email"],
            phone=data["phone"],
            details={"street": data["address"]} if data["address"] else {},
        ),
        origin=RequestOrigin.BOOKING_PAGE,
        service=data["service"],
        service_wanted=data["service"].name,
        description=data["message"],
        address=data["address"],
        preferred_dates=services.slot_label(data.get("slot")),
        sms_opt_in=data["sms_opt_in"],
    )
    services.finish_draft(token=token, status=DraftStatus.REQUESTED)
    signed = signing.dumps(service_request.pk, salt=REQUEST_SALT)
    return redirect("bookings:public_requested", signed=signed)


def _draft_initial(token: str) -> tuple[dict[str, Any], Service | None, date | None]:
    draft = services.open_draft(token)
    if draft is None:
        return {}, None, None
    initial = {name: getattr(draft, name) for name in services.DRAFT_FIELDS}
    initial["sms_opt_in"] = draft.sms_opt_in
    day = local_date(draft.slot) if draft.slot else None
    if draft.slot:
        initial["slot"] = draft.slot.isoformat()
    return initial, draft.service, day


def _render_page(
    request: HttpRequest,
    template: str,
    form: PublicBookingForm,
    service: Service | None,
    day: date | None,
    status: int = 200,
) -> HttpResponse:
    context = {"form": form, "business_name": settings.BUSINESS_NAME}
    context.update(_choice_context(service, day))
    context["selected_slot"] = form["slot"].value() or ""
    return render(request, template, context, status=status)


def _submit(request: HttpRequest, token: str) -> HttpResponse:
    action = "quote" if request.POST.get("action") == "quote" else "book"
    form = PublicBookingForm(request.POST, action=action)
    if form.is_spam:
        # Look like a success, so the bot learns nothing.
        return redirect("bookings:public_thanks")
    status = 422
    if getattr(request, "limited", False):
        # The page again, with what they typed: a person behind a busy
        # shared address only has to wait and press the button again.
        form.is_valid()
        form.add_error(None, RATE_LIMITED_MESSAGE)
        status = 429
    elif form.is_valid():
        try:
            return _finish(request, form, token)
        except services.SlotUnavailable as error:
            form.add_error("slot", error.message)
    slot = form.cleaned_data.get("slot")
    service = _service_from(request.POST.get("service"))
    day = local_date(slot) if slot else None
    return _render_page(request, "bookings/public.html", form, service, day, status)


@login_not_required
@ratelimit(key="ip", rate="10/m", method="POST", block=False)
def public_booking(request: HttpRequest) -> HttpResponse:
    """Show the booking page; book a slot or request a quote."""
    token = _draft_token(request)
    if request.method == "POST":
        return _submit(request, token)
    initial, service, draft_day = _draft_initial(token)
    service = _service_from(request.GET.get("service")) or service
    if service:
        initial["service"] = service.pk
    day = parse_day(request.GET.get("day"), default=None) or draft_day
    # An htmx click on a service or day swaps only the choice section, so
    # what the visitor already typed below stays as it is.
    template = "bookings/_choice.html" if request.htmx else "bookings/public.html"
    form = PublicBookingForm(initial=initial)
    response = _render_page(request, template, form, service, day)
    if not token:
        # Issued with the page, not by the first save's answer: a save sent
        # before that answer came back (or the beacon of a closing page)
        # would otherwise begin a second draft, and the booking would not
        # find the first one to close it.
        _set_draft_cookie(response, services.new_draft_token())
    return response


@login_not_required
@require_POST
@ratelimit(key="ip", rate="60/m", method="POST", block=True)
def save_draft(request: HttpRequest) -> HttpResponse:
    """Keep what the visitor typed so far (called by fetch and sendBeacon)."""
    response = HttpResponse(status=204)
    if request.POST.get("website"):
        return response
    token = _draft_token(request)
    draft = services.save_draft(token=token, values=request.POST)
    if draft is not None and draft.token != token:
        _set_draft_cookie(response, draft.token)
    return response


def _unsign(signed: str, salt: str) -> int:
    try:
        return signing.loads(signed, salt=salt, max_age=timedelta(days=7))
    except signing.BadSignature as error:
        raise Http404("This confirmation link is not valid.") from error


@login_not_required
def public_confirmed(request: HttpRequest, signed: str) -> HttpResponse:
    booking = get_object_or_404(
        Booking.objects.select_related("service"), pk=_unsign(signed, CONFIRM_SALT)
    )
    context = {
        "booking": booking,
        "when": services.slot_label(booking.starts_at),
        "business_name": settings.BUSINESS_NAME,
    }
    return render(request, "bookings/public_confirmed.html", context)


@login_not_required
def public_requested(request: HttpRequest, signed: str) -> HttpResponse:
    service_request = get_object_or_404(
        ServiceRequest, pk=_unsign(signed, REQUEST_SALT)
    )
    return render(
        request, "bookings/public_requested.html", {"request_row": service_request}
    )


@login_not_required
def public_thanks(request: HttpRequest) -> HttpResponse:
    return render(request, "bookings/public_requested.html", {"request_row": None})


# Staff: bookings


def get_booking(pk: int) -> Booking:
    """Return a booking with what its pages show, or 404."""
    return get_object_or_404(
        Booking.objects.select_related("service", "contact", "created_by"), pk=pk
    )


def _filtered_bookings(form: BookingFilterForm) -> QuerySet[Booking]:
    """Return bookings matching the status, service and search filters."""
    bookings = Booking.objects.select_related("service", "contact")
    if status := form.value("status"):
        bookings = bookings.filter(status=status)
    if service := form.value("service"):
        bookings = bookings.filter(service=service)
    if q := form.value("q"):
        phones = ["phone", "contact__phone"]
        bookings = bookings.filter(every_word(q, SEARCH_FIELDS, phone_fields=phones))
    return bookings


def _listed_bookings(form: BookingFilterForm) -> QuerySet[Booking]:
    """Return one day's bookings, or the upcoming, past or all of them."""
    bookings = _filtered_bookings(form)
    if day := form.value("day"):
        # A date asked for is shown whole, whatever "when" says.
        start, end = local_day_bounds(day)
        return bookings.filter(starts_at__gte=start, starts_at__lt=end).order_by(
            "starts_at", "pk"
        )
    when = form.value("when", "upcoming")
    if when == "upcoming":
        return bookings.filter(ends_at__gte=timezone.now()).order_by("starts_at", "pk")
    if when == "past":
        bookings = bookings.filter(ends_at__lt=timezone.now())
    return bookings.order_by("-starts_at", "-pk")


def _calendar(form: BookingFilterForm, view: str) -> dict[str, Any]:
    """Return the day or week around the chosen date, bookings by local day."""
    anchor = form.value("day") or local_today()
    first = anchor - timedelta(days=anchor.weekday()) if view == "week" else anchor
    days = [first + timedelta(days=n) for n in range(7 if view == "week" else 1)]
    start, _ = local_day_bounds(days[0])
    _, end = local_day_bounds(days[-1])
    rows = (
        _filtered_bookings(form)
        .filter(starts_at__gte=start, starts_at__lt=end)
        .order_by("starts_at", "pk")
    )
    by_day: dict[date, list[Booking]] = {day: [] for day in days}
    for booking in rows:
        by_day[local_date(booking.starts_at)].append(booking)
    step = timedelta(days=len(days))
    return {
        "calendar": list(by_day.items()),
        "first_day": days[0],
        "last_day": days[-1],
        "today": local_today(),
        "previous_day": first - step,
        "next_day": first + step,
    }


def _query_without(request: HttpRequest, *names: str) -> str:
    query = request.GET.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()


def booking_list(request: HttpRequest) -> HttpResponse:
    """List upcoming or past bookings, or show a day or week at a time."""
    form = BookingFilterForm(request.GET or None)
    view = form.value("view", "list")
    context: dict[str, Any] = {
        "filter_form": form,
        "view": view,
        "query": _query_without(request, "page"),
        # Earlier / Later keep the filters and move the date.
        "nav_query": _query_without(request, "page", "day", "view"),
    }
    if view in ("day", "week"):
        context.update(_calendar(form, view))
    else:
        page = Paginator(_listed_bookings(form), 50).get_page(request.GET.get("page"))
        context["page"] = page
    return render(request, "bookings/list.html", context)


def booking_detail(request: HttpRequest, pk: int) -> HttpResponse:
    booking = get_booking(pk)
    local = booking.starts_at.astimezone(business_zone())
    form = RescheduleForm(initial={"day": local.date(), "start_time": local.time()})
    context = {"booking": booking, "form": form, "when": services.slot_label(local)}
    return render(request, "bookings/detail.html", context)


@require_POST
def booking_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    booking = get_booking(pk)
    notify = request.POST.get("notify") == "on"
    if services.cancel_booking(booking=booking, actor=request.user, notify=notify):
        messages.success(request, "Booking cancelled; its time is free again.")
    else:
        messages.info(request, "That booking was already cancelled.")
    return redirect("bookings:detail", pk=booking.pk)


@require_POST
def booking_reschedule(request: HttpRequest, pk: int) -> HttpResponse:
    booking = get_booking(pk)
    form = RescheduleForm(request.POST)
    if form.is_valid():
        try:
            services.reschedule_booking(
                booking=booking,
                starts_at=form.starts_at(),
                actor=request.user,
                notify=form.cleaned_data["notify"],
            )
        except services.SlotUnavailable as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "Booking moved.")
            return redirect("bookings:detail", pk=booking.pk)
    context = {"booking": booking, "form": form}
    context["when"] = services.slot_label(booking.starts_at)
    return render(request, "bookings/detail.html", context, status=422)


def _prefill_contact(request: HttpRequest) -> Contact | None:
    raw = request.GET.get("contact", "")
    if not raw.isdigit():
        return None
    return Contact.objects.live().filter(pk=raw).first()


def _booking_initial(request: HttpRequest, contact: Contact | None) -> dict[str, Any]:
    """Return what links from a profile, request or day view fill in."""
    initial: dict[str, Any] = {}
    if contact:
        initial.update(contact=contact.pk, address=contact.address)
    if service := _service_from(request.GET.get("service")):
        initial["service"] = service.pk
    if day := parse_day(request.GET.get("day"), default=None):
        initial["day"] = day
    raw = request.GET.get("request", "")
    answered = ServiceRequest.objects.filter(pk=raw).first() if raw.isdigit() else None
    if answered is not None:
        initial["service_request"] = answered.pk
        initial["address"] = answered.address or initial.get("address", "")
        initial.setdefault("service", answered.service_id)
    return initial


def booking_create(request: HttpRequest) -> HttpResponse:
    """Book a service for a picked contact or for someone typed in."""
    form = StaffBookingForm(request.POST or None)
    if request.method == "GET":
        contact = _prefill_contact(request)
        form = StaffBookingForm(initial=_booking_initial(request, contact))
        form.picked = contact
    elif form.is_valid():
        try:
            booking = services.book(
                **form.booking_fields(), actor=request.user, origin=BookingOrigin.STAFF
            )
        except services.SlotUnavailable as error:
            form.add_error("start_time", error.message)
        else:
            messages.success(request, f"Booked {booking.service.name}.")
            return redirect("bookings:detail", pk=booking.pk)
    if not hasattr(form, "picked"):
        form.picked = form.cleaned_data.get("contact") if form.is_bound else None
    status = 422 if form.is_bound else 200
    return render(request, "bookings/create.html", {"form": form}, status=status)


# Admin: services, hours, closed days, rules


@admin_required
def booking_settings(request: HttpRequest) -> HttpResponse:
    rules = BookingSettings.load()
    form = BookingSettingsForm(request.POST or None, instance=rules)
    hours = hours_formset(request.POST or None)
    if request.method == "POST" and form.is_valid() and hours.is_valid():
        services.save_booking_rules(
            rules=form.save(commit=False), hours=hours.cleaned_data
        )
        messages.success(request, "Booking settings saved.")
        return redirect("bookings:settings")
    context = {
        "form": form,
        "hours": hours,
        "services": Service.objects.all(),
        "closed_days": ClosedDay.objects.filter(date__gte=local_today()),
        "closed_form": ClosedDayForm(),
        "time_zone": settings.TIME_ZONE,
    }
    return render(
        request, "bookings/settings.html", context, status=422 if form.is_bound else 200
    )


@admin_required
def service_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    service = get_object_or_404(Service, pk=pk) if pk else None
    form = ServiceForm(request.POST or None, instance=service)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, f"Service “{form.instance.name}” saved.")
        return redirect("bookings:settings")
    status = 422 if form.is_bound else 200
    context = {"form": form, "service": service}
    return render(request, "bookings/service_form.html", context, status=status)


@admin_required
@require_POST
def closed_day_add(request: HttpRequest) -> HttpResponse:
    form = ClosedDayForm(request.POST)
    if form.is_valid():
        day = form.save().date
        messages.success(request, f"Closed on {day:%b %-d, %Y}.")
        start, end = local_day_bounds(day)
        booked = Booking.objects.confirmed().filter(
            starts_at__gte=start, starts_at__lt=end
        )
        if count := booked.count():
            messages.warning(
                request,
                f"{count} confirmed booking{pluralize(count)} on that day still "
                f"stand{pluralize(count, 's,')}: move or cancel "
                f"{pluralize(count, 'it,them')} under Bookings.",
            )
    else:
        errors = "; ".join(e for errs in form.errors.values() for e in errs)
        messages.error(request, f"Could not add the closed day: {errors}")
    return redirect("bookings:settings")


@admin_required
@require_POST
def closed_day_delete(request: HttpRequest, pk: int) -> HttpResponse:
    ClosedDay.objects.filter(pk=pk).delete()
    messages.success(request, "Closed day removed.")
    return redirect("bookings:settings")
