"""Domain signals of the booking page, received by `prospects`.

Both carry the keyword arguments described in inbox/signals.py (source,
email, phone, handles, details, summary, data, subject, link).

booking_abandoned: a draft went idle with an email or phone and no finished
booking or request; the visitor becomes a prospect or gets a new touch.
booking_confirmed: a visitor (or staff) booked; the person becomes a customer.
"""

from __future__ import annotations

from django.dispatch import Signal

booking_abandoned = Signal()
booking_confirmed = Signal()
