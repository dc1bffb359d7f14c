"""Services, availability, bookings and the booking page's drafts.

Double booking is prevented by the database, without extensions: a booking
claims every 15-minute unit of time it covers as (unit start, seat) rows
under a unique constraint, with seats numbered below the capacity. Two
visitors submitting the same slot insert the same (unit, seat) row, and
PostgreSQL lets exactly one of them commit.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

UNIT_MINUTES = 15
UNIT = timedelta(minutes=UNIT_MINUTES)


class Service(models.Model):
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    duration_minutes = models.PositiveIntegerField(
        "duration (minutes)",
        default=60,
        validators=[MinValueValidator(UNIT_MINUTES), MaxValueValidator(24 * 60)],
        help_text="A multiple of 15 minutes.",
    )
    price = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0"))],
    )
    price_is_from = models.BooleanField(
        '"from" price', default=False, help_text="Show the price as a starting price."
    )
    capacity = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(50)],
        help_text="Jobs at once while this service runs; blank uses the default.",
    )
    active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "name"]

    def __str__(self) -> str:
        return self.name

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.duration_minutes)

    @property
    def duration_display(self) -> str:
        hours, minutes = divmod(self.duration_minutes, 60)
        if hours and minutes:
            return f"{hours} h {minutes} min"
        return f"{hours} h" if hours else f"{minutes} min"

    @property
    def price_display(self) -> str:
        if self.price is None:
            return ""
        amount = f"${self.price:,.2f}".replace(".00", "")
        return f"from {amount}" if self.price_is_from else amount


class BookingSettings(models.Model):
    """The booking rules of the business: one row."""

    lead_time_minutes = models.PositiveIntegerField(
        "booking lead time (minutes)",
        default=120,
        help_text="How long before a slot visitors must book it.",
    )
    horizon_days = models.PositiveSmallIntegerField(
        "days ahead",
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text="How far ahead visitors may book.",
    )
    slot_interval_minutes = models.PositiveSmallIntegerField(
        "start times every (minutes)",
        default=30,
        choices=[(15, "15"), (30, "30"), (60, "60")],
    )
    capacity = models.PositiveSmallIntegerField(
        "jobs at once",
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(50)],
        help_text="How many jobs can run at the same time, unless a service says.",
    )

    class Meta:
        verbose_name_plural = "booking settings"

    def __str__(self) -> str:
        return "Booking settings"

    @classmethod
    def load(cls) -> BookingSettings:
        rules, _ = cls.objects.get_or_create(pk=1)
        return rules

    def capacity_for(self, service: Service) -> int:
        return service.capacity or self.capacity


class BusinessHours(models.Model):
    """Opening hours of one weekday (0 is Monday), in the business time zone."""

    weekday = models.PositiveSmallIntegerField(
        unique=True, validators=[MaxValueValidator(6)]
    )
    opens = models.TimeField()
    closes = models.TimeField()

    class Meta:
        ordering = ["weekday"]
        verbose_name_plural = "business hours"
        constraints = [
            models.CheckConstraint(
                condition=Q(opens__lt=models.F("closes")),
                name="hours_open_before_close",
            )
        ]

    def __str__(self) -> str:
        return f"{self.weekday}: {self.opens}-{self.closes}"


class ClosedDay(models.Model):
    date = models.DateField(unique=True)
    reason = models.CharField(max_length=120, blank=True)

    class Meta:
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.reason}".strip()


class BookingStatus(models.TextChoices):
    CONFIRMED = "confirmed", "Confirmed"
    CANCELLED = "cancelled", "Cancelled"


class BookingOrigin(models.TextChoices):
    BOOKING_PAGE = "booking_page", "Booking page"
    STAFF = "staff", "Staff"


class BookingQuerySet(models.QuerySet):
    def confirmed(self) -> BookingQuerySet:
        return self.filter(status=BookingStatus.CONFIRMED)


class Booking(models.Model):
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="+")
    contact = models.ForeignKey(
        "contacts.Contact",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="bookings",
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    status = models.CharField(
        max_length=16, choices=BookingStatus, default=BookingStatus.CONFIRMED
    )
    origin = models.CharField(
        max_length=16, choices=BookingOrigin, default=BookingOrigin.BOOKING_PAGE
    )
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=20, blank=True)
    address = models.CharField(max_length=300, blank=True)
    message = models.TextField(blank=True)
    sms_opt_in = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    objects = BookingQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at"]
        indexes = [
            models.Index(fields=["status", "starts_at"], name="booking_status_start"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(starts_at__lt=models.F("ends_at")),
                name="booking_starts_before_end",
            )
        ]

    def __str__(self) -> str:
        return f"{self.service} at {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def is_cancelled(self) -> bool:
        return self.status == BookingStatus.CANCELLED


class BookedUnit(models.Model):
    """One 15-minute unit of time held by a booking, on one seat.

    The unique (starts_at, seat) pair is what makes a double booking
    impossible: seats run from 0 to the capacity minus one, so a unit can be
    held by at most `capacity` bookings, whoever commits first.
    """

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="units")
    starts_at = models.DateTimeField()
    seat = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["starts_at", "seat"], name="booked_unit_unique_seat"
            )
        ]

    def __str__(self) -> str:
        return f"{self.starts_at:%Y-%m-%d %H:%M} seat {self.seat}"


class DraftStatus(models.TextChoices):
    OPEN = "open", "Open"
    BOOKED = "booked", "Booked"
    REQUESTED = "requested", "Quote requested"
    CAPTURED = "captured", "Captured as prospect"
    DISCARDED = "discarded", "Nothing usable"


class BookingDraft(models.Model):
    """What a visitor typed on the booking page, saved as they type.

    The browser holds `token` in a cookie; nothing else identifies a draft,
    so drafts cannot be read or changed by guessing ids.
    """

    token = models.CharField(max_length=64, unique=True)
    status = models.CharField(
        max_length=16, choices=DraftStatus, default=DraftStatus.OPEN
    )
    service = models.ForeignKey(
        Service, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    slot = models.DateTimeField(null=True, blank=True)
    name = models.CharField(max_length=200, blank=True)
    email = models.CharField(max_length=254, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    address = models.CharField(max_length=300, blank=True)
    message = models.TextField(blank=True)
    sms_opt_in = models.BooleanField(default=False)
    contact = models.ForeignKey(
        "contacts.Contact",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="booking_drafts",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    captured_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # The sweep's scan: open drafts by idle time.
            models.Index(
                fields=["updated_at"],
                name="draft_open_updated",
                condition=Q(status="open"),
            )
        ]

    def __str__(self) -> str:
        return f"Draft {self.pk} ({self.status})"

    @property
    def has_identifier(self) -> bool:
        return bool(self.email.strip() or self.phone.strip())
