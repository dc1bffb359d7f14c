from __future__ import annotations

import codecs

import pytest

from prospects.importing.reader import FileRejected, inspect_file, iter_records

HEADER = "Name,Email,Phone\n"


def test_utf8_with_bom_reads_names_and_drops_the_bom(write_csv) -> None:
    path = write_csv("\ufeff" + HEADER + "Łukasz Nowak,lukasz@example.com,\n")

    info = inspect_file(path)

    assert (info.encoding_label, info.headers[0]) == ("UTF-8 with BOM", "Name")


def test_windows_1252_file_is_detected_and_names_survive(write_csv) -> None:
    path = write_csv(
        "Name;Email\nJosé Pérez;jose@example.com\nZoë Ng;zoe@x.org\n", "cp1252"
    )

    info = inspect_file(path)
    names = [r.cells[0] for r in iter_records(path, info.encoding, info.delimiter)]

    assert info.encoding_label == "Windows-1252"
    assert names == ["José Pérez", "Zoë Ng"]


def test_windows_1250_file_is_told_from_1252_and_polish_names_survive(
    write_csv,
) -> None:
    path = write_csv(
        "Name;Email\nŁukasz Nowak;lukasz@example.com\nPaweł Bąk;pawel@x.org\n"
        "José Pérez;jose@example.com\n",
        "cp1250",
    )

    info = inspect_file(path)
    names = [r.cells[0] for r in iter_records(path, info.encoding, info.delimiter)]

    assert info.encoding_label == "Windows-1250 (Central European)"
    assert names == ["Łukasz Nowak", "Paweł Bąk", "José Pérez"]


def test_spanish_punctuation_and_letters_keep_a_file_windows_1252(write_csv) -> None:
    # In Windows-1250 these bytes would read "żQué" and "Nuńez".
    path = write_csv(
        "Name,Notes\nAna Núñez,¿Qué tal? ¡Llamar!\nZoë Ng,£5 deposit\n", "cp1252"
    )

    info = inspect_file(path)
    rows = [r.cells for r in iter_records(path, info.encoding, info.delimiter)]

    assert info.encoding == "cp1252"
    assert rows == [["Ana Núñez", "¿Qué tal? ¡Llamar!"], ["Zoë Ng", "£5 deposit"]]


def test_utf16_unicode_text_with_tabs_is_read(write_csv) -> None:
    text = "Name\tEmail\r\nZoë Ng\tzoe@example.com\r\n"
    path = write_csv("", name="u.txt")
    path.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))

    info = inspect_file(path)

    assert (info.delimiter, info.samples[0]) == ("\t", ["Zoë Ng"])


def test_semicolon_delimiter_is_detected(write_csv) -> None:
    path = write_csv("Name;Email;Phone\nAna;ana@example.com;+1 415 555 0101\n")

    assert inspect_file(path).delimiter == ";"


def test_line_numbers_are_physical_lines_across_embedded_newlines(write_csv) -> None:
    path = write_csv(
        HEADER
        + 'Ana,ana@x.org,"line one\nline two"\n\nLee,lee@x.org,\n"Mo\nBo",mo@x.org,\n'
    )

    lines = [r.line for r in iter_records(path, "utf-8", ",")]

    assert lines == [2, 5, 6]


def test_blank_lines_are_not_counted_as_rows(write_csv) -> None:
    path = write_csv("\n" + HEADER + "\nAna,ana@x.org,\n\n,,\nLee,lee@x.org,\n")

    assert inspect_file(path).total_rows == 2


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"PK\x03\x04rest-of-a-zip", "Excel workbook"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a text file"),
        (b"Name,Email\n", "no rows"),
    ],
)
def test_files_that_are_not_importable_say_why(tmp_path, content, message) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)

    with pytest.raises(FileRejected, match=message):
        inspect_file(path)
