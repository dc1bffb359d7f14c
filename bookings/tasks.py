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


@shared_task(
    name="bookings.tasks.send_booking_confirmation",
    autoretry_for=(OSError,),
    retry_backoff=True,
    max_retries=5,
)
def send_booking_confirmation(booking_id: int) -> None:
    """Email the visitor what they booked."""
    booking = Booking.objects.select_related("service").filter(pk=booking_id).first()
    if booking is None or booking.is_cancelled or not booking.email:
        return
    context = {
        "booking": booking,
        "when": services.slot_label(booking.starts_at),
        "business_name": settings.BUSINESS_NAME,
    }
    send_mail(
        subject=f"Your booking with {settings.BUSINESS_NAME}: {context['when']}",
        message=render_to_string("bookings/email/confirmation.txt", context),
        from_email=None,
        recipient_list=[booking.email],
    )
