"""CRM → Prospects and Customers: lists, profile, create and edit, merge."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from contacts.models import Channel, Contact, Note, PermissionState, Stage
from contacts.selectors import identifier_owner, live_contact, search, search_ways
from contacts.services import (
    IdentifierTaken,
    MergeError,
    add_note,
    choose_survivor,
    convert_to_customer,
    delete_note,
    edit_note,
    merge_contacts,
    set_permission,
    update_contact,
)
from prospects import exporting, selectors, services
from prospects.filters import ContactFilter
from prospects.forms import (
    BulkForm,
    ContactForm,
    CreateForm,
    FollowUpForm,
    MergeForm,
    NoteForm,
    PermissionForm,
)
from prospects.table import table_rows

LISTS = {
    Stage.PROSPECT: {
        "title": "Prospects",
        "url": "prospects:list",
        "detail": "prospects:detail",
    },
    Stage.CUSTOMER: {
        "title": "Customers",
        "url": "prospects:customer_list",
        "detail": "prospects:customer_detail",
    },
}


def _list_context(request: HttpRequest, stage: str) -> dict[str, Any]:
    converted = stage == Stage.PROSPECT and request.GET.get("converted") == "1"
    base = selectors.base_queryset(stage, converted=converted)
    filterset = ContactFilter(request.GET, queryset=base, user=request.user)
    sort = request.GET.get("sort", selectors.DEFAULT_SORT)
    sort = sort if sort in selectors.SORTS else selectors.DEFAULT_SORT
    queryset = filterset.qs
    page, count = selectors.list_page(
        queryset,
        sort=sort,
        after=request.GET.get("after", ""),
        before=request.GET.get("before", ""),
        alternatives=filterset.alternatives,
        filtered=filterset.active or converted,
    )
    query = request.GET.copy()
    for name in ("after", "before"):
        query.pop(name, None)
    meta = LISTS[stage]
    return {
        "columns": _columns(query, sort),
        "stage": stage,
        "meta": meta,
        "converted": converted,
        "filter": filterset,
        "page": page,
        "rows": table_rows(page.rows, list_urls=_list_urls()),
        "count": count,
        "sort": sort,
        "query": query.urlencode(),
        "staff": filterset.staff,
        "statuses": Contact._meta.get_field("status").choices,
    }


def _list_urls() -> dict[str, str]:
    return {stage: reverse(meta["url"]) for stage, meta in LISTS.items()}


# (label, sort when clicked, sort when clicked again); None: not sortable.
COLUMNS = [
    ("Name", "name", "name"),
    ("Email / phone", None, None),
    ("Source", None, None),
    ("Status", None, None),
    ("Owner", None, None),
    ("Created", "-created", "created"),
    ("Last activity", "-activity", "-activity"),
    ("Follow-up", "follow_up", "follow_up"),
]


def _columns(query: Any, sort: str) -> list[dict[str, Any]]:
    columns = []
    for label, first, again in COLUMNS:
        column: dict[str, Any] = {"label": label, "link": ""}
        if first:
            params = query.copy()
            column["active"] = sort in (first, again)
            params["sort"] = again if sort == first else first
            column["link"] = params.urlencode()
            column["descending"] = sort.startswith("-")
        columns.append(column)
    return columns


def _list(request: HttpRequest, stage: str) -> HttpResponse:
    context = _list_context(request, stage)
    partial = request.htmx and not request.htmx.history_restore_request
    if partial and request.htmx.target == "results":
        return render(request, "prospects/_rows.html", context)
    return render(request, "prospects/list.html", context)


# One address serves the page and its htmx fragment: the browser must not
# show the cached fragment when Back returns to the address htmx pushed.
@require_GET
@vary_on_headers("HX-Request")
def prospect_list(request: HttpRequest) -> HttpResponse:
    return _list(request, Stage.PROSPECT)


@require_GET
@vary_on_headers("HX-Request")
def customer_list(request: HttpRequest) -> HttpResponse:
    return _list(request, Stage.CUSTOMER)


SEARCH_ROWS = 10


@require_GET
def search_people(request: HttpRequest) -> HttpResponse:
    """Find people across prospects and customers from the top bar's box."""
    q = request.GET.get("q", "").strip()
    if not q:
        return redirect("prospects:list")
    sections = []
    list_urls = _list_urls()
    for stage in (Stage.PROSPECT, Stage.CUSTOMER):
        found, ways = search_ways(selectors.base_queryset(stage), q)
        page, count = selectors.list_page(found, sort="-activity", alternatives=ways)
        rows = table_rows(page.rows[:SEARCH_ROWS], list_urls=list_urls)
        sections.append({"meta": LISTS[stage], "rows": rows, "count": count})
    found = [row for section in sections for row in section["rows"]]
    if len(found) == 1 and all(not s["count"].capped for s in sections):
        return redirect(found[0]["url"])  # one person: open them
    return render(request, "prospects/search.html", {"q": q, "sections": sections})


def _back_to_list(request: HttpRequest, stage: str) -> HttpResponseRedirect:
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}):
        target = reverse(LISTS.get(stage, LISTS[Stage.PROSPECT])["url"])
    return redirect(target or reverse(LISTS[stage]["url"]))


@require_POST
def bulk(request: HttpRequest) -> HttpResponse:
    """Apply one action to the rows selected on a list page."""
    stage = (
        Stage.CUSTOMER if request.POST.get("stage") == "customer" else Stage.PROSPECT
    )
    form = BulkForm(request.POST)
    if not form.is_valid():
        errors = "; ".join(e for errs in form.errors.values() for e in errs)
        messages.error(request, f"Nothing changed: {errors}")
        return _back_to_list(request, stage)
    ids, action = form.cleaned_data["ids"], form.cleaned_data["action"]
    if action == "assign":
        owner = form.cleaned_data["owner_user"]
        done = services.assign_owner(
            ids=ids, owner=owner, actor=request.user, stage=stage
        )
        messages.success(request, f"Owner changed on {done} of {len(ids)} selected.")
    elif action == "status":
        status = form.cleaned_data["status"]
        done = services.set_status(
            ids=ids, status=status, actor=request.user, stage=stage
        )
        messages.success(request, f"Status changed on {done} of {len(ids)} selected.")
    elif stage == Stage.PROSPECT:
        done = services.convert_many(ids=ids, actor=request.user)
        messages.success(request, f"Converted {done} of {len(ids)} to customers.")
    return _back_to_list(request, stage)


# openpyxl writes some 6,000 rows a second: a bigger workbook would outlast
# the web server's 30 s timeout, while CSV streams any length.
XLSX_ROWS = 100_000


@require_GET
def export(request: HttpRequest) -> HttpResponse:
    """Download the filtered list, or the selected rows, as CSV or XLSX."""
    stage = Stage.CUSTOMER if request.GET.get("stage") == "customer" else Stage.PROSPECT
    converted = stage == Stage.PROSPECT and request.GET.get("converted") == "1"
    base = selectors.base_queryset(stage, converted=converted)
    ids = [int(v) for v in request.GET.getlist("ids") if v.isdigit()][:5000]
    if ids:
        queryset = base.filter(pk__in=ids)
    else:
        queryset = ContactFilter(request.GET, queryset=base, user=request.user).qs
    queryset = selectors.export_queryset(queryset.order_by("-created_at", "-id"))
    label = "customers" if stage == Stage.CUSTOMER else "prospects"
    if request.GET.get("format") == "xlsx":
        if queryset.values("pk")[: XLSX_ROWS + 1].count() > XLSX_ROWS:
            messages.error(
                request,
                f"A workbook of more than {XLSX_ROWS:,} rows takes too long to"
                " build: export this list as CSV, or narrow it first.",
            )
            query = request.GET.copy()
            query.pop("format", None)
            return redirect(f"{reverse(LISTS[stage]['url'])}?{query.urlencode()}")
        response = HttpResponse(
            exporting.xlsx_bytes(exporting.rows(queryset)),
            content_type=(
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            ),
        )
        name = exporting.filename(label, "xlsx")
    else:
        # Streamed: a million rows leave in chunks instead of one big string.
        response = StreamingHttpResponse(
            exporting.csv_lines(exporting.rows(queryset)),
            content_type="text/csv; charset=utf-8",
        )
        name = exporting.filename(label, "csv")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _profile_url(contact: Contact) -> str:
    name = "prospects:customer_detail" if contact.is_customer else "prospects:detail"
    return reverse(name, args=[contact.pk])


@require_GET
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    contact = selectors.get_contact(pk)
    if contact.merged_into_id:
        survivor = live_contact(contact)
        messages.info(request, f"#{pk} was merged into {survivor.name}.")
        return redirect(_profile_url(survivor))
    if request.path != _profile_url(contact):
        # A prospect's old address after conversion, or the other way round.
        return redirect(
            f"{_profile_url(contact)}?{request.GET.urlencode()}".rstrip("?")
        )
    context = {
        "contact": contact,
        "identifiers": contact.identifiers.order_by("kind", "created_at"),
        "permissions": selectors.permissions(contact),
        "permission_form": PermissionForm(),
        # "Older" without JavaScript reloads the profile a page further back.
        "timeline": selectors.timeline_page(
            contact, before=request.GET.get("before", "")
        ),
        "touches": selectors.touches(contact),
        "note_form": NoteForm(),
        "follow_up_form": FollowUpForm(initial={"follow_up_on": contact.follow_up_on}),
        "meta": LISTS[contact.stage],
    }
    return render(request, "prospects/detail.html", context)


@require_GET
def timeline(request: HttpRequest, pk: int) -> HttpResponse:
    """Return the next page of older timeline entries, for the "Older" button."""
    contact = selectors.get_contact(pk)
    page = selectors.timeline_page(contact, before=request.GET.get("before", ""))
    return render(
        request, "prospects/_timeline.html", {"contact": contact, "timeline": page}
    )


def _live_or_404(pk: int) -> Contact:
    contact = selectors.get_contact(pk)
    if contact.merged_into_id:
        raise PermissionDenied("This record was merged into another.")
    return contact


@require_http_methods(["GET", "POST"])
def create(request: HttpRequest) -> HttpResponse:
    """Create a prospect, after saying who already owns its email or phone."""
    form = CreateForm(request.POST or None, initial=request.GET.dict())
    if not form.is_valid():
        return render(request, "prospects/form.html", {"form": form, "creating": True})
    data = form.cleaned_data
    owners = _owners(data["email"], data["phone"])
    existing = request.POST.get("existing", "")
    chosen = len(owners) == 1 and existing == str(next(iter(owners)).pk)
    if owners and not (request.POST.get("action") == "add_to_existing" and chosen):
        context = {"form": form, "creating": True, "owners": owners}
        return render(request, "prospects/form.html", context)
    result = services.create_prospect(
        source=data["source"],
        email=data["email"],
        phone=data["phone"],
        details=form.details(),
        actor=request.user,
        first_note=data["first_note"].strip(),
        permissions=[c for c in ("email", "sms") if data[f"{c}_permission"]],
    )
    if result.created:
        messages.success(request, f"Prospect {result.contact.name} created.")
    else:
        messages.success(request, f"Details added to {result.contact.name}.")
    return redirect(_profile_url(result.contact))


def _owners(email: str, phone: str) -> dict[Contact, list[str]]:
    """Return who already owns the email and the phone, with what they own."""
    owners: dict[Contact, list[str]] = {}
    for kind, value in (("email", email), ("phone", phone)):
        owner = identifier_owner(**{kind: value}) if value else None
        if owner is not None:
            owners.setdefault(owner, []).append(value)
    return owners


@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _live_or_404(pk)
    form = ContactForm(request.POST or None, instance=contact)
    taken = None
    if form.is_valid():
        try:
            changed = update_contact(
                contact=contact, actor=request.user, changes=form.changes()
            )
        except IdentifierTaken as error:
            taken = error.owner
            form.add_error(error.kind, f"{error.value} already belongs to {taken}.")
        else:
            note = "Saved." if changed else "Nothing changed."
            messages.success(request, note)
            return redirect(_profile_url(contact))
    context = {"form": form, "contact": contact, "taken": taken}
    return render(request, "prospects/form.html", context)


@require_POST
def convert(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _live_or_404(pk)
    if convert_to_customer(contact=contact, actor=request.user):
        messages.success(request, f"{contact.name} is now a customer.")
    else:
        messages.info(request, f"{contact.name} was already a customer.")
    contact.refresh_from_db(fields=["stage"])
    return redirect(_profile_url(contact))


@require_POST
def follow_up(request: HttpRequest, pk: int) -> HttpResponse:
    """Set or clear the follow-up date from the profile, inline with htmx."""
    contact = _live_or_404(pk)
    form = FollowUpForm(request.POST)
    entry = None
    if form.is_valid():
        day = None if request.POST.get("clear") else form.cleaned_data["follow_up_on"]
        changes = {"follow_up_on": day}
        if update_contact(contact=contact, actor=request.user, changes=changes):
            entry = selectors.latest_entry(contact)
        contact.refresh_from_db(fields=["follow_up_on"])
        form = FollowUpForm(initial=changes)
    if not request.htmx:
        if form.errors:
            messages.error(request, "Follow-up not changed: enter a valid date.")
        else:
            note = "Follow-up date saved." if entry else "Nothing changed."
            messages.success(request, note)
        return redirect(_profile_url(contact))
    # Keyboard focus lands back where it was: the date to correct, or the
    # button that opens the form again (htmx focuses [autofocus] on swap).
    saved = not form.errors
    if not saved:
        form.fields["follow_up_on"].widget.attrs["autofocus"] = True
    context = {"contact": contact, "follow_up_form": form, "entry": entry}
    context["saved"] = saved
    return render(request, "prospects/_follow_up.html", context)


@require_POST
def change_permission(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _live_or_404(pk)
    form = PermissionForm(request.POST)
    if not form.is_valid():
        errors = "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())
        messages.error(request, f"Permission not changed. {errors}")
        return redirect(_profile_url(contact))
    changed = set_permission(
        contact=contact,
        channel=form.cleaned_data["channel"],
        state=form.cleaned_data["state"],
        actor=request.user,
        via="Changed by staff",
        reason=form.cleaned_data["reason"],
    )
    channel = Channel(form.cleaned_data["channel"]).label
    state = PermissionState(form.cleaned_data["state"]).label.lower()
    if changed:
        messages.success(request, f"Permission changed: {channel} {state}.")
    else:
        messages.info(request, f"Nothing changed: {channel} was already {state}.")
    return redirect(_profile_url(contact))


def _note_entry(request: HttpRequest, contact: Contact, note: Note) -> HttpResponse:
    entry = selectors.note_entry(note)
    context = {"contact": contact, "entry": entry}
    return render(request, "prospects/_entry.html", context)


@require_POST
def note_add(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _live_or_404(pk)
    form = NoteForm(request.POST)
    if not form.is_valid():
        if request.htmx:
            response = render(
                request,
                "prospects/_note_form.html",
                {"contact": contact, "note_form": form},
            )
            response["HX-Retarget"] = "#note-form"
            response["HX-Reswap"] = "outerHTML"
            return response
        messages.error(request, "The note was empty.")
        return redirect(_profile_url(contact))
    note = add_note(
        contact=contact, author=request.user, body=form.cleaned_data["body"]
    )
    if request.htmx:
        return _note_entry(request, contact, note)
    messages.success(request, "Note added.")
    return redirect(_profile_url(contact))


def _own_note(request: HttpRequest, pk: int, note_pk: int) -> tuple[Contact, Note]:
    contact = _live_or_404(pk)
    note = get_object_or_404(Note.objects.select_related("author"), pk=note_pk)
    if note.contact_id != contact.pk:
        raise PermissionDenied("This note belongs to someone else's record.")
    if note.author_id != request.user.pk:
        raise PermissionDenied("You can only change your own notes.")
    return contact, note


@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def note_edit(request: HttpRequest, pk: int, note_pk: int) -> HttpResponse:
    contact, note = _own_note(request, pk, note_pk)
    if request.method == "GET" and request.GET.get("cancel"):
        return _note_entry(request, contact, note)
    form = NoteForm(request.POST or None, initial={"body": note.body})
    if form.is_valid():
        edit_note(note=note, body=form.cleaned_data["body"])
        if request.htmx:
            return _note_entry(request, contact, note)
        messages.success(request, "Note saved.")
        return redirect(_profile_url(contact))
    entry = selectors.note_entry(note)
    context = {"contact": contact, "note": note, "form": form, "entry": entry}
    template = "_note_edit.html" if request.htmx else "note_edit.html"
    return render(request, f"prospects/{template}", context)


@require_POST
def note_delete(request: HttpRequest, pk: int, note_pk: int) -> HttpResponse:
    contact, note = _own_note(request, pk, note_pk)
    delete_note(note=note)
    if request.htmx:
        return HttpResponse("")
    messages.success(request, "Note deleted.")
    return redirect(_profile_url(contact))


@require_GET
def merge_pick(request: HttpRequest, pk: int) -> HttpResponse:
    """Search for the duplicate to merge with this person."""
    contact = _live_or_404(pk)
    query = request.GET.get("q", "").strip()
    candidates: list[Contact] = []
    if query:
        found = search(Contact.objects.people().exclude(pk=contact.pk), query)
        candidates = list(found.order_by("-created_at", "-id")[:20])
    context = {"contact": contact, "query": query, "candidates": candidates}
    return render(request, "prospects/merge_pick.html", context)


@require_http_methods(["GET", "POST"])
def merge(request: HttpRequest, pk: int, other_pk: int) -> HttpResponse:
    """Compare two people side by side and merge them, keeping chosen values."""
    first, second = _live_or_404(pk), _live_or_404(other_pk)
    if first.pk == second.pk:
        messages.error(request, "Pick someone else: this is the same record.")
        return redirect("prospects:merge_pick", pk=pk)
    survivor = choose_survivor([first, second])
    loser = second if survivor.pk == first.pk else first
    data = request.POST if request.method == "POST" else None
    form = MergeForm(data, survivor=survivor, loser=loser)
    if form.is_valid():
        try:
            merge_contacts(
                survivor=survivor, loser=loser, actor=request.user, values=form.values()
            )
        except MergeError as error:
            messages.error(request, str(error))
            return redirect(_profile_url(first))
        merged = f"{loser.name} (#{loser.pk}) into {survivor.name} (#{survivor.pk})"
        messages.success(request, f"Merged {merged}.")
        return redirect(_profile_url(survivor))
    context = {
        "survivor": survivor,
        "loser": loser,
        "form": form,
        "contact": first,
        "sides": [selectors.merge_summary(c) for c in (survivor, loser)],
    }
    return render(request, "prospects/merge.html", context)


@require_GET
def duplicates(request: HttpRequest) -> HttpResponse:
    context = {
        "flagged": selectors.open_duplicates(),
        "by_name": selectors.name_duplicates(),
    }
    return render(request, "prospects/duplicates.html", context)


@require_POST
def dismiss_duplicate(request: HttpRequest) -> HttpResponse:
    ids = [request.POST.get("contact", ""), request.POST.get("other", "")]
    if not all(value.isdigit() for value in ids):
        messages.error(request, "Choose a pair to dismiss.")
        return redirect("prospects:duplicates")
    pair = Contact.objects.in_bulk([int(value) for value in ids])
    if len(pair) != 2:
        messages.error(request, "One of these records no longer exists.")
        return redirect("prospects:duplicates")
    first, second = pair.values()
    services.dismiss_duplicate(contact=first, other=second, actor=request.user)
    messages.success(request, f"{first.name} and {second.name} dismissed.")
    return redirect("prospects:duplicates")
