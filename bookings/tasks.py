"""Background work of the booking page: the abandon sweep and emails."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string

from bookings import services
from bookings.models import Booking


@shared_task(name="bookings.tasks.capture_abandoned_bookings", time_limit=300)
def capture_abandoned_bookings() -> int:
    """Turn idle booking-page drafts into prospects (run every minute by beat)."""
    return services.capture_abandoned_drafts()


SUBJECTS = {
    "confirmation": "Your booking with {business}: {when}",
    "moved": "Your booking with {business} is now {when}",
    "cancelled": "Your booking with {business} on {when} is cancelled",
}


def _email(booking: Booking, message: str, **extra: str) -> None:
    context = {
        "booking": booking,
        "when": services.slot_label(booking.starts_at),
        "business_name": settings.BUSINESS_NAME,
        **extra,
    }
    subject = SUBJECTS[message].format(
        business=settings.BUSINESS_NAME, when=context["when"]
    )
    send_mail(
        subject=subject,
        message=render_to_string(f"bookings/email/{message}.txt", context),
        from_email=None,
        recipient_list=[booking.email],
    )


# A mail server that is down or slow gets five more tries, further apart.
email_task = shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)


def _booking(booking_id: int) -> Booking | None:
    booking = Booking.objects.select_related("service").filter(pk=booking_id).first()
    return booking if booking is not None and booking.email else None


@email_task
def send_booking_confirmation(booking_id: int) -> None:
    """Email the visitor what they booked."""
    booking = _booking(booking_id)
    if booking is not None and not booking.is_cancelled:
        _email(booking, "confirmation")


@email_task
def send_booking_moved(booking_id: int, previous: str) -> None:
    """Email the customer the new time of a booking staff moved."""
    booking = _booking(booking_id)
    if booking is not None and not booking.is_cancelled:
        _email(booking, "moved", previous=previous)


@email_task
def send_booking_cancelled(booking_id: int) -> None:
    """Email the customer that staff cancelled their booking."""
    booking = _booking(booking_id)
    if booking is not None and booking.is_cancelled:
        _email(booking, "cancelled")
