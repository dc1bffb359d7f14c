"""Staff pages of the inbox: conversation list, thread, composer, channels."""

from __future__ import annotations

from django.contrib import messages
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from contacts.models import Channel, Contact
from inbox import selectors, services
from inbox.channels import channel_statuses
from inbox.forms import ReplyForm
from inbox.models import Message
from miocrm.access import admin_required

PAGE_SIZE = 50
FILTERS = ("channel", "unread", "mine", "prospects")


def _list_context(request: HttpRequest) -> dict[str, object]:
    filters = {name: request.GET.get(name, "") for name in FILTERS}
    queryset = selectors.conversations(user=request.user, filters=filters)
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("current", None)
    current = request.GET.get("current", "")
    return {
        "page_obj": page,
        "current_id": int(current) if current.isdigit() else None,
        "filters": filters,
        "query": query.urlencode(),
        "channels": Channel.choices,
    }


@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """List conversations; htmx polls swap the list alone."""
    context = _list_context(request)
    if request.htmx and request.htmx.target == "conversation-list":
        return render(request, "inbox/_conversations.html", context)
    return render(request, "inbox/index.html", context)


def _thread_context(
    request: HttpRequest, contact: Contact, form: ReplyForm | None = None
) -> dict[str, object]:
    routes = selectors.routes(contact)
    if form is None:
        default = selectors.default_route(contact, routes)
        initial = {"route": default.value} if default else {}
        form = ReplyForm(routes=routes, initial=initial)
    # Say up front which routes would be refused, rather than after typing.
    refusals = [
        (route, reason)
        for route in routes
        if (reason := services.refusal(contact=contact, **route.as_kwargs()))
    ]
    return {
        "contact": contact,
        "thread": selectors.thread(contact),
        "form": form,
        "routes": routes,
        "refusals": refusals,
    }


def contact(request: HttpRequest, contact_id: int) -> HttpResponse:
    """Open a person's thread across channels, with the composer."""
    person = selectors.contact_for_inbox(contact_id)
    if person.pk != contact_id:
        return redirect("inbox:contact", contact_id=person.pk)
    services.mark_read(contact=person)
    context = _list_context(request) | _thread_context(request, person)
    context["current_id"] = person.pk
    return render(request, "inbox/index.html", context)


@require_GET
def messages_fragment(request: HttpRequest, contact_id: int) -> HttpResponse:
    """Return the thread's messages, for the open thread's polling."""
    person = selectors.contact_for_inbox(contact_id)
    services.mark_read(contact=person)
    context = {"contact": person, "thread": selectors.thread(person)}
    return render(request, "inbox/_messages.html", context)


@require_POST
def send(request: HttpRequest, contact_id: int) -> HttpResponse:
    """Queue a reply on the chosen channel, or say why it cannot go out."""
    person = selectors.contact_for_inbox(contact_id)
    form = ReplyForm(request.POST, routes=selectors.routes(person))
    if form.is_valid():
        route = form.cleaned_data["route_obj"]
        try:
            services.send_message(
                contact=person,
                channel=route.channel,
                handle=route.handle,
                body=form.cleaned_data["body"],
                sender=request.user,
            )
        except services.SendRefused as refusal:
            form.add_error(None, str(refusal))
        else:
            messages.success(request, f"Reply queued on {route.label}.")
            return redirect(reverse("inbox:contact", args=[person.pk]) + "#composer")
    context = _list_context(request) | _thread_context(request, person, form)
    context["current_id"] = person.pk
    return render(request, "inbox/index.html", context)


# Files from strangers are served for download, never rendered, except the
# image and PDF types recognised from their first bytes.
_SNIFFED_TYPES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
)


@require_GET
def attachment(request: HttpRequest, message_id: int, index: int) -> HttpResponse:
    """Download a stored attachment of a message."""
    message = get_object_or_404(Message, pk=message_id)
    items = message.media
    if index >= len(items) or not items[index].get("path"):
        raise Http404("No such attachment.")
    item = items[index]
    handle = default_storage.open(item["path"])
    head = handle.read(16)
    handle.seek(0)
    kind = next(
        (kind for magic, kind in _SNIFFED_TYPES if head.startswith(magic)),
        "application/octet-stream",
    )
    name = item.get("filename") or item["path"].rsplit("/", 1)[-1]
    return FileResponse(handle, as_attachment=True, filename=name, content_type=kind)


@admin_required
@require_GET
def channels(request: HttpRequest) -> HttpResponse:
    """Show each channel's connection state and the URLs to give providers."""
    return render(request, "inbox/channels.html", {"statuses": channel_statuses()})
