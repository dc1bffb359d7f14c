from __future__ import annotations

import gc
import multiprocessing
import os
import weakref
from datetime import timedelta

import pytest
from django.utils import timezone

from contacts.models import (
    Activity,
    ActivityKind,
    CommunicationPermission,
    Contact,
    Identifier,
    PermissionChange,
    Source,
    Stage,
)
from contacts.services import capture_contact, convert_to_customer
from prospects.importing import engine
from tests.imports.helpers import run, table_sizes

pytestmark = pytest.mark.django_db

# A HubSpot-like export with the trouble real files carry: names beyond
# ASCII, phones written five ways, a formula-guarded phone, a duplicate
# row, a blank line, a malformed row and bad values.
REALISTIC = (
    "\ufeffFirst Name,Last Name,Email,Phone Number,Lead Status,Create Date,Notes\n"
    'José,García,jose@example.com,(415) 555-0101,New,2024-01-05,"Wants a quote\n'
    'for carpets"\n'
    "Zoë,Ng,zoe@example.com,'+15550102030,Contacted,2024-02-01T10:00:00Z,\n"
    "Łukasz,Nowak,LUKASZ@example.com,+44 20 7946 0958,,,\n"
    "Ana,Silva,,415.555.0104,qualified,,\n"
    "Lee,Park,lee@example.com,1-415-555-0105 ext. 2,,03/04/2024,\n"
    "\n"
    "Jose,Garcia,jose@example.com,+1 415 555 0101,,,\n"
    "Bad,Email,not-an-email,,,,\n"
    "Bad,Phone,,12,,,\n"
    "Odd,Status,odd@example.com,,Sleeping,,\n"
    ",,,,,,\n"
    ",,,,New,,\n"
    "Too,Many,many@example.com,,,,,extra\n"
)


def test_realistic_file_counts_and_reasons(write_csv) -> None:
    counts, errors = run(write_csv(REALISTIC))

    assert counts == {"created": 5, "duplicates": 1, "rejected": 5}
    assert [(e.line, e.column) for e in errors] == [
        (10, "Email"),
        (11, "Phone Number"),
        (12, "Lead Status"),
        (14, ""),
        (15, ""),
    ]


def test_test_run_counts_equal_the_import_counts(write_csv) -> None:
    capture_contact(source=Source.SMS, phone="+14155550104")
    path = write_csv(REALISTIC)

    tested = run(path, dry_run=True)
    imported = run(path)

    assert tested == imported


def test_test_run_writes_nothing(write_csv) -> None:
    capture_contact(source=Source.SMS, phone="+14155550104")
    before = table_sizes()

    run(write_csv(REALISTIC), dry_run=True)

    assert table_sizes() == before


def test_running_the_same_file_again_creates_no_duplicates(write_csv) -> None:
    path = write_csv(REALISTIC)
    run(path)
    before = table_sizes()

    counts, _ = run(path)

    assert (counts.get("created"), table_sizes()) == (None, before)


def test_formula_guarded_phone_and_names_arrive_clean(write_csv) -> None:
    run(write_csv(REALISTIC))

    zoe = Contact.objects.get(email="zoe@example.com")
    assert (zoe.first_name, zoe.phone) == ("Zoë", "+15550102030")


def test_imported_prospects_get_source_import_and_a_timeline_entry(write_csv) -> None:
    run(write_csv(REALISTIC))

    jose = Contact.objects.get(email="jose@example.com")
    entry = jose.activities.get(kind=ActivityKind.IMPORTED)
    assert (jose.source, entry.summary) == ("import", "Imported from leads.csv")


def test_note_column_becomes_a_note_on_the_timeline(write_csv) -> None:
    run(write_csv(REALISTIC))

    jose = Contact.objects.get(email="jose@example.com")
    assert jose.notes.get().body == "Wants a quote\nfor carpets"


def test_duplicate_rows_inside_the_file_make_one_contact(write_csv) -> None:
    run(write_csv(REALISTIC))

    assert Identifier.objects.get(value="jose@example.com").contact.phone == (
        "+14155550101"
    )


def test_duplicates_across_batches_count_the_same_in_test_and_import(
    write_csv, monkeypatch
) -> None:
    monkeypatch.setattr(engine, "BATCH_SIZE", 2)
    rows = "".join(f"P{n},p{n % 3}@example.com\n" for n in range(7))
    path = write_csv("Name,Email\n" + rows)

    tested = run(path, dry_run=True)
    imported = run(path)

    assert tested == imported == ({"created": 3, "duplicates": 4}, [])


def test_customer_stays_a_customer(write_csv) -> None:
    contact = capture_contact(source=Source.SMS, email="lee@example.com").contact
    convert_to_customer(contact=contact)

    run(write_csv(REALISTIC), on_duplicate="overwrite")

    contact.refresh_from_db()
    assert (contact.stage, contact.source) == (Stage.CUSTOMER, Source.SMS)


def test_overwrite_moves_the_status_forward_never_back(write_csv) -> None:
    for email in ("ana@example.com", "lee@example.com"):
        capture_contact(source=Source.SMS, email=email)
    Contact.objects.update(status="qualified")

    run(
        write_csv("Email,Status\nana@example.com,New\nlee@example.com,Lost\n"),
        on_duplicate="overwrite",
    )

    statuses = dict(Contact.objects.values_list("email", "status"))
    assert statuses == {"ana@example.com": "qualified", "lee@example.com": "lost"}


def test_update_fills_blanks_only(write_csv) -> None:
    capture_contact(
        source=Source.SMS, email="ana@example.com", details={"first_name": "Anna"}
    )

    counts, _ = run(write_csv("Name,Email,City\nAna Silva,ana@example.com,Lisbon\n"))

    ana = Contact.objects.get(email="ana@example.com")
    assert (counts, ana.first_name, ana.last_name, ana.city) == (
        {"updated": 1},
        "Anna",
        "Silva",
        "Lisbon",
    )


def test_an_updated_contact_moves_up_but_an_unchanged_one_stays(write_csv) -> None:
    long_ago = timezone.now() - timedelta(days=30)
    for email in ("ana@example.com", "lee@example.com"):
        capture_contact(
            source=Source.SMS, email=email, details={"created_at": long_ago}
        )

    run(write_csv("Email,City\nana@example.com,Lisbon\nlee@example.com,\n"))

    moved = dict(Contact.objects.values_list("email", "last_activity_at"))
    assert moved["ana@example.com"] > timezone.now() - timedelta(minutes=1)
    assert moved["lee@example.com"] == long_ago


def test_overwrite_replaces_values_but_blank_cells_never_erase(write_csv) -> None:
    capture_contact(
        source=Source.SMS,
        email="ana@example.com",
        details={"first_name": "Anna", "city": "Porto"},
    )

    run(
        write_csv("First name,Email,City\nAna,ana@example.com,\n"),
        on_duplicate="overwrite",
    )

    ana = Contact.objects.get(email="ana@example.com")
    assert (ana.first_name, ana.city) == ("Ana", "Porto")


def test_skip_leaves_existing_contacts_alone(write_csv) -> None:
    capture_contact(source=Source.SMS, email="ana@example.com")

    counts, _ = run(
        write_csv("Name,Email,City\nAna Silva,ana@example.com,Lisbon\n"),
        on_duplicate="skip",
    )

    assert (counts, Contact.objects.get().city) == ({"skipped": 1}, "")


def test_several_emails_and_phones_in_one_cell_become_identifiers(write_csv) -> None:
    run(
        write_csv(
            "Display Name,E-mails,Main Phone #s\n"
            'Mo Bo,"mo@example.com, bo@example.com","415-555-0107, 415-555-0108"\n'
        )
    )

    values = set(Identifier.objects.values_list("value", flat=True))
    assert values == {
        "mo@example.com",
        "bo@example.com",
        "+14155550107",
        "+14155550108",
    }


def test_google_contacts_multi_values_are_split(write_csv) -> None:
    run(write_csv("Name,E-mail 1 - Value\nMo,mo@example.com ::: mo@work.example\n"))

    assert Identifier.objects.count() == 2


def test_permissions_are_set_with_history(write_csv) -> None:
    run(
        write_csv(
            "Email,Email permission,SMS permission\nana@example.com,granted,revoked\n"
        )
    )

    states = dict(CommunicationPermission.objects.values_list("channel", "state"))
    assert states == {"email": "granted", "sms": "revoked"}
    assert PermissionChange.objects.filter(previous_state="unknown").count() == 2


def test_an_opt_out_column_revokes_and_a_no_leaves_consent_unknown(write_csv) -> None:
    run(
        write_csv(
            "FirstName,Email,HasOptedOutOfEmail\n"
            "Ana,ana@example.com,1\nLee,lee@example.com,false\n"
        )
    )

    permissions = CommunicationPermission.objects.values_list(
        "contact__email", "channel", "state"
    )
    assert list(permissions) == [("ana@example.com", "email", "revoked")]


def test_a_company_without_first_or_last_name_keeps_its_display_name(
    write_csv,
) -> None:
    run(
        write_csv(
            "Display Name,First Name,Last Name,E-mails\n"
            "Acme Cleaning,,,office@acme.example\nAna Silva,Ana,,ana@example.com\n"
        )
    )

    names = {c.email: (c.first_name, c.last_name) for c in Contact.objects.all()}
    assert names == {
        "office@acme.example": ("Acme", "Cleaning"),
        "ana@example.com": ("Ana", "Silva"),
    }


def test_unknown_owner_is_rejected_with_the_column(write_csv) -> None:
    _, errors = run(
        write_csv("Email,Owner email\nana@example.com,nobody@example.com\n")
    )

    assert (errors[0].column, "nobody@example.com" in errors[0].reason) == (
        "Owner email",
        True,
    )


def test_owner_email_assigns_the_user(write_csv, admin_user) -> None:
    admin_user.email = "ada@example.com"
    admin_user.save()

    run(write_csv("Email,Owner email\nana@example.com,ADA@example.com\n"))

    assert Contact.objects.get().owner == admin_user


def test_row_without_email_or_phone_is_matched_by_name_on_a_rerun(write_csv) -> None:
    path = write_csv("Name,City\nAna Silva,Lisbon\n")
    run(path)

    counts, _ = run(path)

    assert (counts, Contact.objects.count()) == ({"unchanged": 1}, 1)


def test_identifier_taken_by_a_capture_mid_import_updates_that_contact(
    write_csv, monkeypatch
) -> None:
    # The lookup misses the owner, as when a webhook commits between the
    # lookup and the insert: the unique constraint catches it.
    capture_contact(source=Source.SMS, email="ana@example.com")
    real_lookup = engine._identifier_owners
    calls = []

    def first_lookup_misses(kinds, values):
        calls.append(values)
        return [] if len(calls) == 1 else real_lookup(kinds, values)

    monkeypatch.setattr(engine, "_identifier_owners", first_lookup_misses)

    counts, _ = run(write_csv("Name,Email\nAna Silva,ana@example.com\n"))

    assert (counts, Contact.objects.count()) == ({"updated": 1}, 1)
    assert Contact.objects.get().last_name == "Silva"


def test_row_whose_email_and_phone_have_different_owners_updates_the_email_owner(
    write_csv,
) -> None:
    # A household shares the phone; the email says who this row is about.
    capture_contact(source=Source.SMS, phone="+14155550101")
    ana = capture_contact(source=Source.SMS, email="ana@example.com").contact

    run(write_csv("Name,Phone,Email\nAna Silva,415-555-0101,ana@example.com\n"))

    ana.refresh_from_db()
    assert (Contact.objects.count(), ana.last_name) == (2, "Silva")


def test_text_with_tabs_backslashes_quotes_and_braces_arrives_unchanged(
    write_csv,
) -> None:
    header = "First name,Last name,Email,City,Tags,Internal information\n"
    row = (
        'Ana\tMaria,O\\Brien,ana@example.com,"Back\\slash\r\nCity",'
        '"say ""hi"", {vip}\\",\\N\n'
    )

    run(write_csv(header + row))

    ana = Contact.objects.get()
    assert (ana.first_name, ana.last_name, ana.city, ana.tags, ana.internal_info) == (
        "Ana\tMaria",
        "O\\Brien",
        "Back\\slash\r\nCity",
        ['say "hi"', "{vip}\\"],
        "\\N",
    )


def test_a_nul_character_deep_in_a_damaged_file_is_dropped(write_csv) -> None:
    rows = "".join(f"P{n},p{n}@example.com\n" for n in range(500))

    counts, _ = run(
        write_csv("Name,Email\n" + rows + "Ana\x00 Silva,ana@example.com\n")
    )

    assert counts == {"created": 501}
    assert Contact.objects.get(email="ana@example.com").last_name == "Silva"


def test_import_round_trips_our_own_export(write_csv, admin_user) -> None:
    admin_user.email = "ada@example.com"
    admin_user.save()
    header = (
        "First name,Last name,Email,Phone,Street,City,Region,Postal code,Country,"
        "Source,Status,Owner email,Follow-up date,Internal information,"
        "Email permission,SMS permission,Tags,Created date\n"
    )
    row = (
        "Ana,García,ana@example.com,'+15550102030,1 Main St,Austin,TX,78701,US,"
        "Booking page,Contacted,ada@example.com,2026-01-15,'=not a formula,"
        'granted,revoked,"vip, carpet",2025-11-03T10:02:00+00:00\n'
    )

    counts, errors = run(write_csv(header + row))

    ana = Contact.objects.get()
    assert (counts, errors) == ({"created": 1}, [])
    assert (ana.source, ana.status, ana.owner, ana.tags, ana.internal_info) == (
        Source.BOOKING_PAGE,
        "contacted",
        admin_user,
        ["vip", "carpet"],
        "=not a formula",
    )
    assert (str(ana.follow_up_on), ana.created_at.year, ana.phone) == (
        "2026-01-15",
        2025,
        "+15550102030",
    )


def test_imported_activity_is_not_repeated_when_nothing_changed(write_csv) -> None:
    path = write_csv(REALISTIC)
    run(path)
    run(path)

    assert Activity.objects.filter(kind=ActivityKind.IMPORTED).count() == 5


def test_parse_in_a_thread_where_no_process_can_fork_gives_the_same_result(
    write_csv, monkeypatch
) -> None:
    path = write_csv(REALISTIC)
    tested = run(path, dry_run=True)
    monkeypatch.setattr(engine, "_CAN_FORK", False)

    assert run(path, dry_run=True) == tested
    assert run(path) == tested


def test_a_rejected_email_does_not_keep_its_batch_alive(write_csv) -> None:
    # Django's ValidationError refers to itself; with its traceback it held
    # every frame down to the batch, which then waited for the garbage
    # collector (off during a run): ten batches at once, 190 MB per 100,000.
    from tests.imports.helpers import options_for

    path = write_csv("Name,Email\nAna,ana@example.com\nBad,not-an-email\n")
    records, options = options_for(path)
    prepared = engine.Engine(options, dry_run=True).prepare(records)
    row = weakref.ref(prepared.groups[0].row)

    gc.disable()
    try:
        del prepared
        assert row() is None
    finally:
        gc.enable()


class _PidEngine:
    """Stands in for the engine: says which process parsed each batch."""

    def prepare(self, records):
        return os.getpid(), len(records)


def _parse_in_a_daemonic_process(answers) -> None:
    records = [{"line": n} for n in range(engine.BATCH_SIZE * 2 + 500)]
    parsed = [
        prepared for _, prepared in engine.prepared_batches(_PidEngine(), records)
    ]
    answers.put((os.getpid(), parsed))


def test_a_celery_pool_process_still_parses_in_a_process_of_its_own() -> None:
    # Celery's pool processes are daemonic; multiprocessing would refuse them
    # a child, and the wizard's imports would lose the parse process.
    context = multiprocessing.get_context("fork")
    answers = context.Queue()
    worker = context.Process(
        target=_parse_in_a_daemonic_process, args=(answers,), daemon=True
    )
    worker.start()
    worker_pid, parsed = answers.get(timeout=30)
    worker.join()

    first, size = engine.FIRST_BATCH_SIZE, engine.BATCH_SIZE
    assert [batch for _, batch in parsed] == [first, size, size]
    assert {pid for pid, _ in parsed} - {worker_pid} == {pid for pid, _ in parsed}


def test_an_error_while_parsing_ahead_reaches_the_caller(
    write_csv, monkeypatch
) -> None:
    def broken(self, records):
        raise LookupError("parser broke")

    monkeypatch.setattr(engine.Engine, "prepare", broken)

    with pytest.raises(LookupError, match="parser broke"):
        run(write_csv(REALISTIC))
