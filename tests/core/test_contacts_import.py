"""Contacts import: CSV and XLSX, header mapping, every error located, all rows or none."""

from __future__ import annotations

import csv
import string
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tocsin.contacts_import import import_contacts, plan_columns, target_for
from tocsin.errors import ImportRefused, ValidationError
from tocsin.store import Store


def _write_csv(path: Path, rows: list[list[str]], delimiter: str = ",") -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, delimiter=delimiter).writerows(rows)
    return path


def test_french_and_english_headers_map_to_fields() -> None:
    assert target_for("Prénom") == ("first_name", 0)
    assert target_for("NOM") == ("last_name", 0)
    assert target_for("E-mail 2") == ("email", 2)
    assert target_for("Téléphone portable") == ("mobile", 0)
    assert target_for("Code postal") == ("postal_code", 0)
    assert target_for("Département") == ("department", 0)
    assert target_for("favourite colour") is None


def test_csv_import_normalises_numbers_and_addresses(store: Store, tmp_path: Path) -> None:
    path = _write_csv(
        tmp_path / "citizens.csv",
        [
            ["Identifiant", "Prénom", "Nom", "Portable", "Email", "Téléphone", "Département", "Quartier"],
            ["c1", "Léa", "Martin", "06 12 34 56 78", "Lea.Martin@Example.org", "", "69", "Nord"],
            ["c2", "Noé", "Petit", "+32 470 12 34 56", "", "04 72 00 00 00", "01", ""],
        ],
        delimiter=";",
    )
    result = import_contacts(store, path, region="FR")
    assert (result.rows, result.created, result.updated) == (2, 2, 0)
    lea = store.contacts.get_by_external_id("c1")
    assert {(m.kind, m.value) for m in lea.means} == {
        ("mobile", "+33612345678"),
        ("email", "Lea.Martin@example.org"),
    }
    assert lea.address.department == "69"
    assert lea.attributes == {"Quartier": "Nord"}
    noe = store.contacts.get_by_external_id("c2")
    assert {m.value for m in noe.means} == {"+32470123456", "+33472000000"}


def test_every_bad_cell_is_reported_with_row_and_column_and_nothing_is_imported(
    store: Store, tmp_path: Path
) -> None:
    path = _write_csv(
        tmp_path / "bad.csv",
        [
            ["id", "first name", "last name", "mobile", "email"],
            ["a", "Ana", "Ruiz", "0612345678", "ana@example.org"],
            ["b", "Bo", "Li", "12", "bo@example.org"],
            ["c", "Cy", "Ng", "0612345679", "not-an-address"],
            ["a", "Di", "Om", "0612345670", ""],
        ],
    )
    with pytest.raises(ImportRefused) as refused:
        import_contacts(store, path, region="FR")
    located = {(e.row, e.column) for e in refused.value.errors}
    assert located == {(3, "mobile"), (4, "email"), (5, "id")}
    assert "row 3, column 'mobile'" in str(refused.value)
    assert "already used on row 2" in str(refused.value)
    assert store.contacts.count() == 0


def test_second_import_updates_on_external_id(store: Store, tmp_path: Path) -> None:
    first = _write_csv(tmp_path / "a.csv", [["ref", "first name", "mobile"], ["r1", "Old", "0611111111"]])
    import_contacts(store, first, region="FR")
    second = _write_csv(tmp_path / "b.csv", [["ref", "first name", "mobile"], ["r1", "New", "0622222222"]])
    result = import_contacts(store, second, region="FR")
    assert (result.created, result.updated) == (0, 1)
    contact = store.contacts.get_by_external_id("r1")
    assert contact.first_name == "New" and [m.value for m in contact.means] == ["+33622222222"]


def test_xlsx_import_with_explicit_mapping_and_numeric_cells(store: Store, tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Code", "Given", "Family", "GSM", "Colour"])
    sheet.append([1001, "Ada", "Byron", 612345678, "green"])
    sheet.append([None, None, None, None, None])
    sheet.append([1002, "Alan", "Turing", "+44 7911 123456", "blue"])
    path = tmp_path / "people.xlsx"
    book.save(path)
    result = import_contacts(
        store, path, region="FR",
        mapping={"Code": "external_id", "Given": "first_name", "Family": "last_name", "Colour": "ignore"},
    )
    assert (result.rows, result.empty_rows) == (2, 1)
    ada = store.contacts.get_by_external_id("1001")
    assert ada.full_name == "Ada Byron" and ada.means[0].value == "+33612345678"
    assert ada.attributes == {}
    assert store.contacts.get_by_external_id("1002").means[0].value == "+447911123456"


def test_import_can_fill_a_group_in_the_same_transaction(store: Store, tmp_path: Path) -> None:
    store.groups.create("volunteers")
    path = _write_csv(tmp_path / "v.csv", [["email"], ["a@example.org"], ["b@example.org"]])
    import_contacts(store, path, region="FR", group="volunteers")
    assert len(store.groups.members("volunteers")) == 2


@pytest.mark.postgres
def test_a_large_import_leaves_postgresql_with_fresh_statistics_of_the_group(pg_url: str, tmp_path: Path) -> None:
    """Paging an alert's audience right after the import is planned for the real group
    size, not as if the freshly loaded table were nearly empty."""
    store = Store.open(pg_url, upgrade=True)
    try:
        store.groups.create("district")
        rows = [["email"]] + [[f"c{i}@example.org"] for i in range(1500)]
        import_contacts(store, _write_csv(tmp_path / "d.csv", rows), region="FR", group="district")
        with store.engine.connect() as conn:
            # reltuples is -1 until the table is first analyzed (or vacuumed)
            tuples = conn.exec_driver_sql(
                "SELECT reltuples FROM pg_class WHERE oid = 'group_members'::regclass"
            ).scalar_one()
        assert tuples == 1500
    finally:
        store.close()


def test_mapping_errors_name_the_header(tmp_path: Path) -> None:
    with pytest.raises(ImportRefused, match="unknown field 'nickname'"):
        plan_columns(["a", "b"], {"a": "nickname"})
    with pytest.raises(ImportRefused, match="not in the file"):
        plan_columns(["a"], {"zzz": "first_name"})
    with pytest.raises(ImportRefused, match="maps to email like column 'mail'"):
        plan_columns(["mail", "courriel"])
    with pytest.raises(ImportRefused, match="no contact field"):
        plan_columns(["mystery"], unmapped="error")


def test_unsupported_or_missing_files_are_refused(store: Store, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="no such file"):
        import_contacts(store, tmp_path / "nope.csv", region="FR")
    odd = tmp_path / "list.json"
    odd.write_text("[]")
    with pytest.raises(ValidationError, match="unsupported file type"):
        import_contacts(store, odd, region="FR")


def test_progress_reports_reading_and_writing(sqlite_store: Store, tmp_path: Path) -> None:
    rows = [["email"]] + [[f"p{i}@example.org"] for i in range(2500)]
    path = _write_csv(tmp_path / "many.csv", rows)
    seen: list[tuple[str, int, int | None]] = []
    import_contacts(sqlite_store, path, region="FR", progress=lambda *a: seen.append(a))
    assert ("reading", 2500, 2500) in seen
    assert seen[-1] == ("writing", 2500, 2500)


# -- property-based: what goes in comes out, and one bad cell refuses the whole file ------

names = (
    st.text(alphabet=string.ascii_letters + "éèçàÉ -'", min_size=1, max_size=20).map(str.strip).filter(bool)
)
mobiles = st.integers(0, 999_999).map(lambda n: f"0612{n:06d}")
emails = st.builds(
    lambda user, domain: f"{user}@{domain}.org",
    st.text(alphabet=string.ascii_lowercase + string.digits, min_size=1, max_size=12),
    st.text(alphabet=string.ascii_lowercase, min_size=2, max_size=10),
)
people = st.lists(st.tuples(names, names, mobiles, emails), min_size=1, max_size=30)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=people, delimiter=st.sampled_from([",", ";", "\t"]))
def test_imported_contacts_match_the_file(tmp_path: Path, rows: list[tuple[str, str, str, str]],
                                          delimiter: str) -> None:
    store = Store.open(f"sqlite:///{tmp_path / f'p{abs(hash((tuple(rows), delimiter)))}.db'}", upgrade=True)
    try:
        path = _write_csv(
            tmp_path / "p.csv",
            [["ID", "Prénom", "Nom", "Mobile", "E-mail"]]
            + [[f"id{i}", f, la, m, e] for i, (f, la, m, e) in enumerate(rows)],
            delimiter=delimiter,
        )
        result = import_contacts(store, path, region="FR")
        assert result.created == len(rows)
        for i, (first, last, mobile, email) in enumerate(rows):
            c = store.contacts.get_by_external_id(f"id{i}")
            assert (c.first_name, c.last_name) == (first, last)
            assert {m.value for m in c.means} == {"+33" + mobile[1:], email}
    finally:
        store.close()


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=people, data=st.data())
def test_one_bad_cell_refuses_the_file_and_names_it(tmp_path: Path, rows: list[tuple[str, str, str, str]],
                                                    data: st.DataObject) -> None:
    store = Store.open(f"sqlite:///{tmp_path / f'b{abs(hash(tuple(rows)))}.db'}", upgrade=True)
    try:
        bad_index = data.draw(st.integers(0, len(rows) - 1))
        column = data.draw(st.sampled_from(["Mobile", "E-mail"]))
        table = [[f, la, m, e] for f, la, m, e in rows]
        table[bad_index][2 if column == "Mobile" else 3] = data.draw(
            st.sampled_from(["12", "abc", "@@", "+0", "x@"])
        )
        path = _write_csv(tmp_path / "b.csv", [["Prénom", "Nom", "Mobile", "E-mail"], *table])
        with pytest.raises(ImportRefused) as refused:
            import_contacts(store, path, region="FR")
        assert [(e.row, e.column) for e in refused.value.errors] == [(bad_index + 2, column)]
        assert store.contacts.count() == 0
    finally:
        store.close()
