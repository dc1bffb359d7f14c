from __future__ import annotations

from typing import Any

from django import forms

from contacts.models import Channel
from inbox.selectors import Route

# Longest text each provider accepts in one message.
MAX_LENGTH = {
    Channel.SMS: 1600,
    Channel.MESSENGER: 2000,
    Channel.INSTAGRAM: 1000,
    Channel.GOOGLE_BUSINESS: 3072,
    Channel.CHAT: 4000,
    Channel.EMAIL: 20000,
}


class ReplyForm(forms.Form):
    route = forms.ChoiceField(label="Reply via")
    body = forms.CharField(
        label="Message",
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "Type a reply…"}),
    )

    def __init__(self, *args: Any, routes: list[Route], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.routes = {route.value: route for route in routes}
        self.fields["route"].choices = [(r.value, r.label) for r in routes]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        route = self.routes.get(data.get("route", ""))
        body = data.get("body", "")
        if route and len(body) > MAX_LENGTH[Channel(route.channel)]:
            limit = MAX_LENGTH[Channel(route.channel)]
            label = Channel(route.channel).label
            self.add_error(
                "body", f"{label} messages can be at most {limit} characters."
            )
        data["route_obj"] = route
        return data
