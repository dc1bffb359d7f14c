"""Quotes with priced lines, and service requests.

Money is Decimal throughout. Each line's net and tax are rounded to cents
(half up) on their own, and the quote's totals are the sums of those
rounded amounts, so the printed lines always add up to the printed total.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

CENT = Decimal("0.01")


def to_cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


class QuoteStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SENT = "sent", "Sent"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    EXPIRED = "expired", "Expired"


class QuoteNumber(models.Model):
    """The last quote number handed out: one row, locked while numbering."""

    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return str(self.last)


class Quote(models.Model):
    number = models.PositiveIntegerField(unique=True)
    contact = models.ForeignKey(
        "contacts.Contact",
        null=True,
        on_delete=models.PROTECT,
        related_name="quotes",
    )
    status = models.CharField(
        max_length=16, choices=QuoteStatus, default=QuoteStatus.DRAFT
    )
    valid_until = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True, help_text="Shown on the printed quote.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-number"]
        indexes = [
            models.Index(fields=["status", "-created_at"], name="quote_status_created"),
            models.Index(fields=["-created_at"], name="quote_created"),
        ]

    def __str__(self) -> str:
        return self.display_number

    @property
    def display_number(self) -> str:
        return f"Q-{self.number:04d}"

    @property
    def is_overdue(self) -> bool:
        """Return whether an open quote's valid-until date has passed."""
        open_statuses = (QuoteStatus.DRAFT, QuoteStatus.SENT)
        return (
            self.status in open_statuses
            and self.valid_until is not None
            and self.valid_until < timezone.localdate()
        )

    @property
    def subtotal(self) -> Decimal:
        return sum((line.net for line in self.lines.all()), Decimal("0.00"))

    @property
    def tax_total(self) -> Decimal:
        return sum((line.tax for line in self.lines.all()), Decimal("0.00"))

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.tax_total


class QuoteLine(models.Model):
    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveSmallIntegerField(default=0)
    description = models.CharField(max_length=300)
    quantity = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        default=Decimal("1"),
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    unit_price = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
    )
    tax_rate = models.DecimalField(
        "tax rate (%)",
        max_digits=5,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
    )

    class Meta:
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.description

    @property
    def net(self) -> Decimal:
        return to_cents(self.quantity * self.unit_price)

    @property
    def tax(self) -> Decimal:
        return to_cents(self.net * self.tax_rate / 100)

    @property
    def total(self) -> Decimal:
        return self.net + self.tax


class RequestStatus(models.TextChoices):
    NEW = "new", "New"
    SCHEDULED = "scheduled", "Scheduled"
    CLOSED = "closed", "Closed"


class RequestOrigin(models.TextChoices):
    BOOKING_PAGE = "booking_page", "Booking page"
    STAFF = "staff", "Staff"


class ServiceRequest(models.Model):
    contact = models.ForeignKey(
        "contacts.Contact",
        null=True,
        on_delete=models.PROTECT,
        related_name="service_requests",
    )
    service = models.ForeignKey(
        "bookings.Service",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    service_wanted = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    address = models.CharField(max_length=300, blank=True)
    preferred_dates = models.CharField(max_length=300, blank=True)
    status = models.CharField(
        max_length=16, choices=RequestStatus, default=RequestStatus.NEW
    )
    origin = models.CharField(
        max_length=16, choices=RequestOrigin, default=RequestOrigin.STAFF
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["status", "-created_at"], name="request_status_created"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service_wanted} ({self.get_status_display()})"
