"""Importing contacts from CSV and XLSX: every row validated, all rows or none.

Headers are mapped to contact fields by a built-in table of usual names (English and
French: ``first name``, ``prénom``, ``e-mail``, ``portable``...) that an explicit
mapping overrides. ``email``, ``mobile`` and ``phone`` may repeat with a number
(``email2``, ``mobile 2``): the number is the order of preference. Columns that map to
nothing become free attributes (``attributes.<header>``), unless told to ignore them.

Rows are numbered as a spreadsheet shows them (the header is row 1); every error names
its row and column, and a file with any error imports nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from attrs import frozen
from sqlalchemy import insert, select

from tocsin.errors import CellError, ImportRefused, NotFoundError, ValidationError
from tocsin.model import AddressKind, Contact, ContactMeans, PostalAddress
from tocsin.store import Store
from tocsin.store.groups import BULK
from tocsin.store.schema import group_members, groups
from tocsin.validate import email_address, phone_e164

Progress = Callable[[str, int, int | None], None]
"""``progress(phase, done, total)``: phase is ``"reading"`` or ``"writing"``."""

SCALAR_FIELDS = (
    "external_id",
    "first_name",
    "last_name",
    "language",
    "organisation",
    "address_line1",
    "address_line2",
    "postal_code",
    "city",
    "department",
    "region",
    "country",
)
MEANS_FIELDS = ("email", "mobile", "phone")

_ALIASES: dict[str, str] = {}
for _field, _names in {
    "external_id": ["externalid", "id", "reference", "ref", "identifier", "identifiant", "matricule"],
    "first_name": ["firstname", "prenom", "givenname", "forename"],
    "last_name": ["lastname", "nom", "surname", "familyname", "nomdefamille", "name"],
    "language": ["language", "langue", "lang", "locale"],
    "organisation": ["organisation", "organization", "company", "societe", "entreprise", "org"],
    "address_line1": ["address", "adresse", "address1", "addressline1", "street", "rue"],
    "address_line2": ["address2", "addressline2", "complement", "complementadresse"],
    "postal_code": ["postalcode", "postcode", "zip", "zipcode", "codepostal", "cp"],
    "city": ["city", "ville", "commune", "town", "localite"],
    "department": ["department", "departement", "dept", "county"],
    "region": ["region", "state", "province"],
    "country": ["country", "pays"],
    "email": ["email", "mail", "courriel", "emailaddress", "adressemail", "adresseemail"],
    "mobile": ["mobile", "portable", "cellphone", "cell", "gsm", "mobilephone", "telportable",
               "telephoneportable", "mobilenumber"],
    "phone": ["phone", "telephone", "tel", "landline", "fixe", "telephonefixe", "phonenumber"],
}.items():
    for _name in _names:
        _ALIASES[_name] = _field


def _normalise(header: str) -> str:
    text = unicodedata.normalize("NFKD", header).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]", "", text)


def target_for(header: str) -> tuple[str, int] | None:
    """The field a header maps to by the built-in table, with its preference number."""
    key = _normalise(header)
    if key in _ALIASES:
        return _ALIASES[key], 0
    match = re.fullmatch(r"([a-z]+?)(\d+)", key)
    if match and _ALIASES.get(match.group(1)) in MEANS_FIELDS:
        return _ALIASES[match.group(1)], int(match.group(2))
    return None


@frozen
class ColumnPlan:
    """What one column of the file becomes."""

    header: str
    field: str  # a scalar field, a means kind, "attributes.<name>" or "ignore"
    preference: int = 0


@frozen
class ImportResult:
    """What an import did."""

    rows: int
    created: int
    updated: int
    empty_rows: int
    columns: tuple[ColumnPlan, ...]
    group: str | None = None


def plan_columns(
    headers: Sequence[str], mapping: Mapping[str, str] | None = None, *, unmapped: str = "attribute"
) -> tuple[ColumnPlan, ...]:
    """Decide what each header becomes; raises :class:`ImportRefused` on a bad header row."""
    if unmapped not in ("attribute", "ignore", "error"):
        raise ValidationError(f"unmapped must be attribute, ignore or error, not {unmapped!r}")
    explicit = {h.strip(): f.strip() for h, f in (mapping or {}).items()}
    errors: list[CellError] = []
    plans: list[ColumnPlan] = []
    seen: dict[tuple[str, int], str] = {}
    stripped = [str(h or "").strip() for h in headers]
    for header in explicit:
        if header not in stripped:
            errors.append(CellError(1, header, "the mapping names a column that is not in the file"))
    for index, header in enumerate(stripped):
        column = header or f"#{index + 1}"
        if not header:
            if unmapped == "error":
                errors.append(CellError(1, column, "empty header"))
            plans.append(ColumnPlan(column, "ignore"))
            continue
        if header in explicit:
            wanted = explicit[header]
            base = re.fullmatch(r"(email|mobile|phone)(\d*)", wanted)
            if wanted in SCALAR_FIELDS or wanted == "ignore" or wanted.startswith("attributes."):
                target: tuple[str, int] | None = (wanted, 0)
            elif base:
                target = (base.group(1), int(base.group(2) or 0))
            else:
                errors.append(CellError(1, column, f"unknown field {wanted!r} in the mapping"))
                continue
        else:
            target = target_for(header)
        if target is None:
            if unmapped == "error":
                errors.append(CellError(1, column, "no contact field for this column"))
                continue
            target = ("ignore", 0) if unmapped == "ignore" else (f"attributes.{header}", 0)
        if target[0] != "ignore":
            if target in seen:
                errors.append(
                    CellError(1, column, f"maps to {target[0]} like column {seen[target]!r}")
                )
                continue
            seen[target] = column
        plans.append(ColumnPlan(column, target[0], target[1]))
    if errors:
        raise ImportRefused(errors)
    return tuple(plans)


# -- readers ------------------------------------------------------------------------------


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value).strip()


def _read_csv(path: Path, encoding: str | None) -> tuple[list[str], Iterator[list[str]], int | None]:
    raw = path.read_bytes()
    text: str | None = None
    for enc in [encoding] if encoding else ["utf-8-sig", "cp1252"]:
        try:
            text = raw.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    if text is None:
        raise ValidationError(f"{path}: cannot decode the file as {encoding}")
    sample = text[:65536]
    # Only the delimiter is sniffed: the sniffer's guess of a quote character is fooled
    # by apostrophes in names (O'Brien), and spreadsheets always quote with '"'.
    try:
        delimiter = csv.Sniffer().sniff(sample.split("\n", 1)[0], delimiters=",;\t|").delimiter
    except csv.Error:
        delimiter = ","
    dialect: Any = type("ImportDialect", (csv.excel,), {"delimiter": delimiter})
    total = max(text.count("\n") - 1 + (0 if text.endswith("\n") else 1), 0)
    reader = csv.reader(io.StringIO(text), dialect)
    header = next(reader, None)
    if header is None:
        raise ImportRefused([CellError(1, "", "the file is empty: a header row is needed")])
    return header, reader, total


def _read_xlsx(path: Path, sheet: str | None) -> tuple[list[str], Iterator[list[str]], int | None]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:
        raise ValidationError(f"{path}: not a readable XLSX workbook ({exc})") from None
    try:
        ws = book[sheet] if sheet else book.worksheets[0]
    except KeyError:
        raise ValidationError(f"{path}: no sheet named {sheet!r} (sheets: {book.sheetnames})") from None
    rows = ws.iter_rows(values_only=True)
    first = next(rows, None)
    if first is None:
        raise ImportRefused([CellError(1, "", "the sheet is empty: a header row is needed")])
    total = (ws.max_row - 1) if ws.max_row else None
    return [_cell_text(v) for v in first], ([_cell_text(v) for v in r] for r in rows), total


def read_table(
    path: Path, *, encoding: str | None = None, sheet: str | None = None
) -> tuple[list[str], Iterator[list[str]], int | None]:
    """The header, the data rows and (roughly) how many there are, for CSV or XLSX."""
    if not path.exists():
        raise ValidationError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path, sheet)
    if suffix in (".csv", ".txt", ".tsv"):
        return _read_csv(path, encoding)
    raise ValidationError(f"{path}: unsupported file type {suffix!r} (use .csv or .xlsx)")


# -- validation ----------------------------------------------------------------------------


def _row_contact(
    values: Sequence[str], plans: Sequence[ColumnPlan], row: int, region: str, errors: list[CellError]
) -> Contact:
    scalars: dict[str, str] = {}
    attributes: dict[str, str] = {}
    means: list[ContactMeans] = []
    for plan, raw in zip(plans, values, strict=False):
        value = raw.strip() if isinstance(raw, str) else _cell_text(raw)
        if plan.field == "ignore" or not value:
            continue
        if plan.field.startswith("attributes."):
            attributes[plan.field.removeprefix("attributes.")] = value
        elif plan.field in SCALAR_FIELDS:
            scalars[plan.field] = value
        else:
            try:
                normal = email_address(value) if plan.field == "email" else phone_e164(value, region)
            except ValidationError as exc:
                errors.append(CellError(row, plan.header, str(exc)))
                continue
            means.append(ContactMeans(AddressKind(plan.field), normal, preference=plan.preference))
    language = scalars.get("language", "").lower()
    if language and not re.fullmatch(r"[a-z]{2,3}([-_][a-z0-9]{2,8})?", language):
        column = next(p.header for p in plans if p.field == "language")
        errors.append(CellError(row, column, f"{language!r} is not a language code (e.g. fr, en)"))
    return Contact(
        external_id=scalars.get("external_id") or None,
        first_name=scalars.get("first_name", ""),
        last_name=scalars.get("last_name", ""),
        language=language,
        organisation=scalars.get("organisation", ""),
        address=PostalAddress(
            line1=scalars.get("address_line1", ""),
            line2=scalars.get("address_line2", ""),
            postal_code=scalars.get("postal_code", ""),
            city=scalars.get("city", ""),
            department=scalars.get("department", ""),
            region=scalars.get("region", ""),
            country=scalars.get("country", ""),
        ),
        attributes=attributes,
        means=_dedupe(means),
    )


def _dedupe(means: list[ContactMeans]) -> tuple[ContactMeans, ...]:
    seen: set[tuple[str, str]] = set()
    kept = []
    for m in means:
        if (m.kind, m.value) not in seen:
            seen.add((m.kind, m.value))
            kept.append(m)
    return tuple(kept)


def validate_rows(
    headers: Sequence[str],
    rows: Iterator[Sequence[str]],
    plans: Sequence[ColumnPlan],
    *,
    region: str,
    total: int | None = None,
    progress: Progress | None = None,
) -> tuple[list[Contact], int]:
    """Every row as a contact, or :class:`ImportRefused` listing every error."""
    errors: list[CellError] = []
    contacts: list[Contact] = []
    first_row_of: dict[str, int] = {}
    id_column = next((p.header for p in plans if p.field == "external_id"), "")
    empty = 0
    width = len(headers)
    row_number = 1
    for row_number, values in enumerate(rows, start=2):
        if not any((v or "").strip() if isinstance(v, str) else v for v in values):
            empty += 1
            continue
        if len(values) > width and any(str(v).strip() for v in values[width:]):
            errors.append(CellError(row_number, "", f"{len(values)} cells but only {width} headers"))
        contact = _row_contact(values, plans, row_number, region, errors)
        if contact.external_id:
            if contact.external_id in first_row_of:
                errors.append(
                    CellError(
                        row_number,
                        id_column,
                        f"external id {contact.external_id!r} already used on row "
                        f"{first_row_of[contact.external_id]}",
                    )
                )
            else:
                first_row_of[contact.external_id] = row_number
        contacts.append(contact)
        if progress and row_number % 1000 == 0:
            progress("reading", row_number - 1, total)
    if progress:
        progress("reading", max(row_number - 1, 0), max(row_number - 1, 0))
    if errors:
        raise ImportRefused(errors, total_rows=row_number - 1)
    return contacts, empty


def import_contacts(
    store: Store,
    path: str | Path,
    *,
    region: str,
    mapping: Mapping[str, str] | None = None,
    unmapped: str = "attribute",
    group: str | None = None,
    encoding: str | None = None,
    sheet: str | None = None,
    progress: Progress | None = None,
    now: dt.datetime | None = None,
) -> ImportResult:
    """Import a CSV or XLSX file of contacts (see the module documentation)."""
    path = Path(path)
    headers, rows, total = read_table(path, encoding=encoding, sheet=sheet)
    plans = plan_columns(headers, mapping, unmapped=unmapped)
    contacts, empty = validate_rows(headers, rows, plans, region=region, total=total, progress=progress)
    with store.transaction() as conn:
        group_id = None
        if group is not None:
            group_id = conn.execute(select(groups.c.id).where(groups.c.name == group)).scalar_one_or_none()
            if group_id is None:
                raise NotFoundError(f"no group named {group!r}; create it first")
        created = updated = 0
        ids: list[int] = []
        step = 5000
        for start in range(0, len(contacts), step):
            counts = store.contacts.upsert(contacts[start : start + step], now=now, conn=conn)
            created += counts.created
            updated += counts.updated
            ids.extend(counts.ids)
            if progress:
                progress("writing", min(start + step, len(contacts)), len(contacts))
        if group_id is not None and ids:
            present = set(
                conn.execute(
                    select(group_members.c.contact_id).where(group_members.c.group_id == group_id)
                ).scalars()
            )
            new = [{"group_id": group_id, "contact_id": i} for i in dict.fromkeys(ids) if i not in present]
            for start in range(0, len(new), 5000):
                conn.execute(insert(group_members), new[start : start + 5000])
    if len(contacts) >= BULK:
        store.analyze("contacts", "contact_means", "group_members")
    return ImportResult(
        rows=len(contacts), created=created, updated=updated, empty_rows=empty, columns=plans, group=group
    )
