"""Writes for bookings and drafts: book, cancel, reschedule, save, sweep."""

from __future__ import annotations

import logging
import secrets
from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format

from bookings.availability import business_zone, is_free, units_between
from bookings.models import (
    BookedUnit,
    Booking,
    BookingDraft,
    BookingOrigin,
    BookingSettings,
    BookingStatus,
    BusinessHours,
    DraftStatus,
    Service,
)
from bookings.signals import booking_abandoned, booking_confirmed
from contacts.models import (
    ActivityKind,
    Channel,
    Contact,
    Identifier,
    IdentifierKind,
    PermissionState,
    Source,
)
from contacts.normalize import InvalidIdentifier, normalize_email, normalize_phone
from contacts.services import (
    convert_to_customer,
    record_activity,
    set_permission,
)
from quotes.models import ServiceRequest
from quotes.services import schedule_service_request, split_name

logger = logging.getLogger(__name__)

TAKEN_MESSAGE = "Sorry, that time was just taken. Please pick another."
DRAFT_FIELDS = ("name", "email", "phone", "address", "message")


class SlotUnavailable(Exception):
    """The chosen time cannot be booked (any more)."""

    def __init__(self, message: str = TAKEN_MESSAGE) -> None:
        super().__init__(message)
        self.message = message


def slot_label(moment: datetime | None) -> str:
    """Return a slot as visitors read it: "Fri Dec 4, 9:00 AM"."""
    if moment is None:
        return ""
    local = moment.astimezone(business_zone())
    return date_format(local, "D M j, g:i A")


def _free_seats(booking: Booking, capacity: int) -> list[BookedUnit]:
    """Return a free seat for every unit of the booking's time, or raise."""
    units = units_between(booking.starts_at, booking.ends_at)
    held: defaultdict[datetime, set[int]] = defaultdict(set)
    for unit, seat in BookedUnit.objects.filter(starts_at__in=units).values_list(
        "starts_at", "seat"
    ):
        held[unit].add(seat)
    rows = []
    for unit in units:
        # A service with more capacity may hold seats past this one's, so
        # count what is held, as the slot computation does.
        free = (s for s in range(capacity) if s not in held[unit])
        seat = next(free, None) if len(held[unit]) < capacity else None
        if seat is None:
            raise SlotUnavailable()
        rows.append(BookedUnit(booking=booking, starts_at=unit, seat=seat))
    return rows


def _claim_units(booking: Booking, capacity: int) -> None:
    """Hold every unit of the booking's time on a free seat, or raise."""
    # A visitor who read the same free seats inserts the same (unit, seat)
    # rows: PostgreSQL makes the second insert wait for the first
    # transaction and then fail, so only one of them ever commits. With
    # seats to spare the loser reads again (READ COMMITTED sees the winner)
    # and takes the next one; each retry finds at least one more seat held.
    for _attempt in range(capacity):
        rows = _free_seats(booking, capacity)
        try:
            with transaction.atomic():
                BookedUnit.objects.bulk_create(rows)
        except IntegrityError:
            continue
        return
    raise SlotUnavailable()


def _details(name: str, address: str) -> dict[str, Any]:
    details: dict[str, Any] = split_name(name)
    if address:
        details["street"] = address
    return details


def _booking_data(booking: Booking) -> dict[str, Any]:
    return {
        "booking_id": booking.pk,
        "service": booking.service.name,
        "service_id": booking.service_id,
        "slot": booking.starts_at.isoformat(),
        "slot_display": slot_label(booking.starts_at),
        "message": booking.message,
    }


def _link_booking(booking: Booking, actor: Any) -> Any:
    def link(contact: Contact) -> None:
        booking.contact = contact
        booking.save(update_fields=["contact"])
        if booking.sms_opt_in:
            set_permission(
                contact=contact,
                channel=Channel.SMS,
                state=PermissionState.GRANTED,
                actor=actor,
                via="booking page",
                reason="Asked to be texted about their booking",
            )

    return link


def _email_on_commit(booking: Booking, task_name: str, *args: Any) -> None:
    """Queue one of the booking emails once the transaction commits."""
    # The tasks module imports this one: import it when it is first needed.
    from bookings import tasks

    if booking.email:
        task = getattr(tasks, task_name)
        transaction.on_commit(lambda: task.delay(booking.pk, *args))


@transaction.atomic
def book(
    *,
    service: Service,
    starts_at: datetime,
    name: str = "",
    email: str = "",
    phone: str = "",
    address: str = "",
    message: str = "",
    sms_opt_in: bool = False,
    contact: Contact | None = None,
    actor: Any = None,
    origin: str = BookingOrigin.BOOKING_PAGE,
    draft_token: str = "",
    send_confirmation: bool = True,
    service_request: ServiceRequest | None = None,
) -> Booking:
    """Book a service at a time and make the person a customer.

    Visitors may only take slots the booking page offers; staff may book
    outside opening hours, but never past the capacity. Raise
    SlotUnavailable when the time is gone. The confirmation email goes out
    after commit unless `send_confirmation` is off (staff said not to, or
    the booking is demo data). A service request it answers is marked
    scheduled.
    """
    rules = BookingSettings.load()
    if origin == BookingOrigin.BOOKING_PAGE and not is_free(
        service, starts_at, rules=rules
    ):
        raise SlotUnavailable()
    booking = Booking.objects.create(
        service=service,
        starts_at=starts_at,
        ends_at=starts_at + service.duration,
        origin=origin,
        name=name,
        email=normalize_email(email),
        phone=normalize_phone(phone),
        address=address,
        message=message,
        sms_opt_in=sms_opt_in,
        contact=contact,
        created_by=actor,
    )
    _claim_units(booking, rules.capacity_for(service))
    summary = f"Booked {service.name} for {slot_label(starts_at)}"
    if contact is not None:
        record_activity(
            contact=contact,
            kind=ActivityKind.BOOKING_CREATED,
            source=Source.MANUAL,
            actor=actor,
            summary=summary,
            data=_booking_data(booking),
            subject=booking,
        )
        convert_to_customer(contact=contact, actor=actor)
        _link_booking(booking, actor)(contact)
    else:
        booking_confirmed.send(
            sender=Booking,
            source=(
                Source.BOOKING_PAGE
                if origin == BookingOrigin.BOOKING_PAGE
                else Source.MANUAL
            ),
            email=booking.email,
            phone=booking.phone,
            details=_details(name, address),
            summary=summary,
            data=_booking_data(booking),
            subject=booking,
            actor=actor,
            link=_link_booking(booking, actor),
        )
    if draft_token:
        finish_draft(token=draft_token, status=DraftStatus.BOOKED)
    if service_request is not None:
        schedule_service_request(request=service_request)
    if send_confirmation:
        _email_on_commit(booking, "send_booking_confirmation")
    return booking


@transaction.atomic
def cancel_booking(
    *, booking: Booking, actor: Any = None, notify: bool = False
) -> bool:
    """Cancel a booking and free its time; return False if it already was.

    With `notify`, the customer is emailed after commit.
    """
    booking = Booking.objects.select_for_update().get(pk=booking.pk)
    if booking.is_cancelled:
        return False
    booking.status = BookingStatus.CANCELLED
    booking.cancelled_at = timezone.now()
    booking.save(update_fields=["status", "cancelled_at"])
    booking.units.all().delete()
    if booking.contact_id:
        record_activity(
            contact=booking.contact,
            kind=ActivityKind.BOOKING_CHANGED,
            actor=actor,
            summary=f"Booking cancelled: {booking.service.name}, "
            f"{slot_label(booking.starts_at)}",
            data={"booking_id": booking.pk, "status": booking.status},
            subject=booking,
        )
    if notify:
        _email_on_commit(booking, "send_booking_cancelled")
    return True


@transaction.atomic
def reschedule_booking(
    *, booking: Booking, starts_at: datetime, actor: Any = None, notify: bool = False
) -> Booking:
    """Move a booking to another time; raise SlotUnavailable when it is full.

    The same seats rule as a new booking applies. With `notify`, the
    customer is emailed the new time after commit.
    """
    booking = Booking.objects.select_for_update().get(pk=booking.pk)
    if booking.is_cancelled:
        raise SlotUnavailable("A cancelled booking cannot be moved.")
    previous = booking.starts_at
    booking.units.all().delete()
    booking.starts_at = starts_at
    booking.ends_at = starts_at + booking.service.duration
    booking.save(update_fields=["starts_at", "ends_at"])
    _claim_units(booking, BookingSettings.load().capacity_for(booking.service))
    if booking.contact_id:
        record_activity(
            contact=booking.contact,
            kind=ActivityKind.BOOKING_CHANGED,
            actor=actor,
            summary=f"Booking moved: {booking.service.name} from "
            f"{slot_label(previous)} to {slot_label(starts_at)}",
            data={"booking_id": booking.pk, "from": previous.isoformat()},
            subject=booking,
        )
    if notify and starts_at != previous:
        _email_on_commit(booking, "send_booking_moved", slot_label(previous))
    return booking


# Drafts


def new_draft_token() -> str:
    return secrets.token_urlsafe(32)


def _clean_draft_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """Return what a draft can keep of the posted values; drop what is bad."""
    clean: dict[str, Any] = {}
    for name in DRAFT_FIELDS:
        limit = BookingDraft._meta.get_field(name).max_length or 5000
        clean[name] = str(values.get(name) or "")[:limit]
    clean["sms_opt_in"] = bool(values.get("sms_opt_in"))
    service_id = str(values.get("service") or "")
    clean["service"] = (
        Service.objects.filter(pk=service_id, active=True).first()
        if service_id.isdigit()
        else None
    )
    clean["slot"] = _parse_slot(values.get("slot"))
    return clean


def _parse_slot(raw: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(raw or ""))
    except ValueError:
        return None
    return moment if timezone.is_aware(moment) else None


@transaction.atomic
def save_draft(*, token: str, values: Mapping[str, Any]) -> BookingDraft | None:
    """Save what the visitor typed, under the browser's token.

    Nothing is kept until an email or phone is typed. The first save begins
    the draft under the token the page issued; a draft that already ended
    (booked, requested or captured) is left alone and a new one begun under
    a new token, so each visit is captured at most once. Return the draft,
    or None.
    """
    clean = _clean_draft_values(values)
    draft = (
        BookingDraft.objects.select_for_update()
        .filter(token=token, status=DraftStatus.OPEN)
        .first()
        if token
        else None
    )
    if draft is None:
        if not (clean["email"].strip() or clean["phone"].strip()):
            return None
        draft = _begin_draft(token)
    for name, value in clean.items():
        setattr(draft, name, value)
    draft.updated_at = timezone.now()
    draft.save()
    return draft


def _begin_draft(token: str) -> BookingDraft:
    """Return a new open draft under the token, or a new token if it was used.

    Saves of one visit can arrive together (a typing pause and the page
    being closed); the unique token makes the second wait and then find
    the draft the first one began, instead of beginning another.
    """
    if token:
        draft, _ = BookingDraft.objects.get_or_create(token=token)
        if draft.status == DraftStatus.OPEN:
            return draft
    return BookingDraft.objects.create(token=new_draft_token())


def finish_draft(*, token: str, status: str) -> bool:
    """Mark the browser's open draft as booked or requested."""
    return bool(
        BookingDraft.objects.filter(token=token, status=DraftStatus.OPEN).update(
            status=status, updated_at=timezone.now()
        )
    )


def open_draft(token: str) -> BookingDraft | None:
    if not token:
        return None
    return (
        BookingDraft.objects.filter(token=token, status=DraftStatus.OPEN)
        .select_related("service")
        .first()
    )


def _usable(raw: str, normalize: Any) -> str:
    try:
        return normalize(raw)
    except InvalidIdentifier:
        return ""


def _abandoned_summary(draft: BookingDraft) -> str:
    parts = [draft.service.name if draft.service else "no service chosen yet"]
    if draft.slot:
        parts.append(slot_label(draft.slot))
    summary = "Left the booking page: " + ", ".join(parts)
    if draft.message:
        summary += f" — “{draft.message[:200]}”"
    return summary


def _finished_since(draft: BookingDraft, email: str, phone: str) -> str | None:
    """Return how the person finished since the draft began, if they did.

    A booking or request made another way (another device, a phone call to
    staff, a save that arrived after Book now) means the visit was not
    abandoned, so it is not captured as if it were.
    """
    named = Q(pk__in=[])
    if email:
        named |= Q(kind=IdentifierKind.EMAIL, value=email)
    if phone:
        named |= Q(kind=IdentifierKind.PHONE, value=phone)
    # Every booking and request is linked to its person's contact.
    owners = Identifier.objects.filter(named).values("contact_id")
    since = {"created_at__gte": draft.created_at, "contact__in": owners}
    if Booking.objects.filter(**since).exists():
        return DraftStatus.BOOKED
    if ServiceRequest.objects.filter(**since).exists():
        return DraftStatus.REQUESTED
    return None


@transaction.atomic
def capture_draft(*, draft_id: int, idle_since: datetime) -> bool:
    """Turn one idle draft into a prospect touch; return whether it did.

    The conditional update claims the draft: a second sweep, or a visitor
    finishing at the same moment, finds it no longer open and does nothing.
    """
    claimed = BookingDraft.objects.filter(
        pk=draft_id, status=DraftStatus.OPEN, updated_at__lt=idle_since
    ).update(status=DraftStatus.CAPTURED, captured_at=timezone.now())
    if not claimed:
        return False
    draft = BookingDraft.objects.select_related("service").get(pk=draft_id)
    email = _usable(draft.email, normalize_email)
    phone = _usable(draft.phone, normalize_phone)
    finished = _finished_since(draft, email, phone) if email or phone else None
    if finished or not (email or phone):
        draft.status = finished or DraftStatus.DISCARDED
        draft.save(update_fields=["status"])
        return False

    def link(contact: Contact) -> None:
        draft.contact = contact
        draft.save(update_fields=["contact"])

    booking_abandoned.send(
        sender=BookingDraft,
        source=Source.BOOKING_PAGE,
        email=email,
        phone=phone,
        details=_details(draft.name, draft.address),
        summary=_abandoned_summary(draft),
        data={
            "draft_id": draft.pk,
            "service": draft.service.name if draft.service else "",
            "service_id": draft.service_id,
            "slot": draft.slot.isoformat() if draft.slot else "",
            "slot_display": slot_label(draft.slot),
            "message": draft.message,
        },
        subject=draft,
        link=link,
    )
    return True


def capture_abandoned_drafts(*, batch: int = 200) -> int:
    """Capture every draft idle past BOOKING_ABANDON_MINUTES; return how many."""
    idle_since = timezone.now() - timedelta(minutes=settings.BOOKING_ABANDON_MINUTES)
    idle = BookingDraft.objects.filter(
        status=DraftStatus.OPEN, updated_at__lt=idle_since
    ).order_by("updated_at")
    captured = 0
    failed: set[int] = set()
    while ids := list(idle.exclude(pk__in=failed).values_list("pk", flat=True)[:batch]):
        for draft_id in ids:
            try:
                captured += capture_draft(draft_id=draft_id, idle_since=idle_since)
            except Exception:
                # One bad draft must not stop the sweep; it stays open and
                # is tried again on the next run.
                logger.exception("Could not capture booking draft %s", draft_id)
                failed.add(draft_id)
    return captured


# Settings


@transaction.atomic
def save_booking_rules(
    *, rules: BookingSettings, hours: list[Mapping[str, Any]]
) -> None:
    """Save the booking rules and the seven weekdays' opening hours."""
    rules.save()
    for weekday, day in enumerate(hours):
        if day.get("is_open"):
            BusinessHours.objects.update_or_create(
                weekday=weekday,
                defaults={"opens": day["opens"], "closes": day["closes"]},
            )
        else:
            BusinessHours.objects.filter(weekday=weekday).delete()
