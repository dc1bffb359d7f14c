"""Domain signals of quotes and service requests, received by `prospects`.

Both carry the keyword arguments described in inbox/signals.py (source,
email, phone, handles, details, summary, data, subject, link). Send them when
a quote or service request is created for someone typed in, not picked from
the existing contacts.
"""

from __future__ import annotations

from django.dispatch import Signal

quote_created = Signal()
service_request_created = Signal()
