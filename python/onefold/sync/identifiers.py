"""Normalize and SHA-256 hash customer identifiers the way ad platforms match them.

Ad platforms match uploaded customer lists by hashing their own users' identifiers and
comparing digests, so one stray capital or space means no match. Each function here
applies one platform's documented normalization; `hash_identifier` then hashes the
result, and passes a value through unchanged when it already is a SHA-256 digest (the
warehouse ships some identifiers pre-hashed, see `macros/identity/normalize.sql`).

The ad-platform file formats use these rules. A sync's `hashed:` fields are hashed in
the warehouse instead, inside the snapshot SQL (`onefold.sync.snapshot`), so 100k-row
plans never round-trip through Python, with a simpler normalization (email trimmed and
lower-cased, phone as the digits of its E.164 form) that suits the already-normalized
golden values of the marts.

Sources (checked 2026):
- Google Customer Match, file upload: https://support.google.com/google-ads/answer/7659867
  (headers "Email, Phone, First Name, Last Name, Country, Zip") and the Google Ads
  Customer Match upload template (https://g.co/wudy8r): hashed data lower-cased with
  extra spaces removed, phones in E.164 before hashing.
- Google Ads API, Customer Match and OfflineUserAddressInfo:
  https://developers.google.com/google-ads/api/docs/remarketing/audience-types/customer-match
  https://developers.google.com/google-ads/api/reference/rpc/v22/OfflineUserAddressInfo
  (trim and lower-case emails and names; last names also without punctuation; country
  as ISO 3166-1 alpha-2 and postal code sent unhashed).
- Google's rule for gmail.com / googlemail.com: "Remove all periods (.) that precede the
  domain name" (enhanced conversions / Campaign Manager 360 normalization,
  https://developers.google.com/doubleclick-advertisers/guides/conversions_ec); the
  Customer Match page says the periods may stay "since they'll still be accepted", so
  removing them is safe for both.
- Meta Customer File Custom Audiences, "Hashing and Normalizing Data":
  https://developers.facebook.com/docs/marketing-api/audiences/guides/custom-audiences#hash
  (EMAIL trimmed, lower-cased; PHONE digits only with country code, no symbols or
  leading zeros; FN/LN a-z lower-case without punctuation, UTF-8; CT lower-case letters
  only; ST 2-character ANSI code lower-cased for the US; ZIP lower-case without spaces,
  first 5 digits in the US, area/district/sector in the UK; COUNTRY lower-case ISO
  3166-1 alpha-2; every one of them SHA-256 hashed), and column headers from
  https://www.facebook.com/business/help/2082575038703844 (email, phone, fn, ln, ct,
  st, zip, country).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from onefold.phones import e164_in_region

SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_WHITESPACE_RUN = re.compile(r"\s+")
_COUNTRY_CODE = re.compile(r"[a-z]{2}")
_GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})

# Meta: "Use the 2-character ANSI abbreviation code" for US states.
US_STATE_CODES: Mapping[str, str] = {
    "alabama": "al", "alaska": "ak", "arizona": "az", "arkansas": "ar", "california": "ca",
    "colorado": "co", "connecticut": "ct", "delaware": "de", "districtofcolumbia": "dc",
    "florida": "fl", "georgia": "ga", "hawaii": "hi", "idaho": "id", "illinois": "il",
    "indiana": "in", "iowa": "ia", "kansas": "ks", "kentucky": "ky", "louisiana": "la",
    "maine": "me", "maryland": "md", "massachusetts": "ma", "michigan": "mi",
    "minnesota": "mn", "mississippi": "ms", "missouri": "mo", "montana": "mt",
    "nebraska": "ne", "nevada": "nv", "newhampshire": "nh", "newjersey": "nj",
    "newmexico": "nm", "newyork": "ny", "northcarolina": "nc", "northdakota": "nd",
    "ohio": "oh", "oklahoma": "ok", "oregon": "or", "pennsylvania": "pa",
    "rhodeisland": "ri", "southcarolina": "sc", "southdakota": "sd", "tennessee": "tn",
    "texas": "tx", "utah": "ut", "vermont": "vt", "virginia": "va", "washington": "wa",
    "westvirginia": "wv", "wisconsin": "wi", "wyoming": "wy", "puertorico": "pr",
}  # fmt: skip


def is_sha256_hex(value: str) -> bool:
    """True for a SHA-256 hex digest (case and surrounding spaces ignored, as in dbt)."""
    return SHA256_HEX.fullmatch(value.strip().lower()) is not None


def sha256_hex(text: str) -> str:
    """Lower-case hex SHA-256 of the UTF-8 bytes of `text`."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def hash_identifier(value: str, normalize: Callable[[str], str | None]) -> str | None:
    """SHA-256 of the normalized value; an existing digest passes through (lower-cased);
    None when the value cannot be normalized."""
    if is_sha256_hex(value):
        return value.strip().lower()
    normalized = normalize(value)
    return None if normalized is None else sha256_hex(normalized)


def _nfc_lower(value: str) -> str:
    # One Unicode form before hashing: "é" typed as one code point or as e + accent
    # must give the same UTF-8 bytes.
    return unicodedata.normalize("NFC", value).strip().lower()


def _letters_only(value: str) -> str:
    return "".join(c for c in value if unicodedata.category(c)[0] in ("L", "M"))


def normalize_email(value: str) -> str | None:
    """Trimmed, lower-cased address; None unless it looks like one (x@y.z, no spaces)."""
    email = _nfc_lower(value)
    return email if _EMAIL.fullmatch(email) else None


def normalize_email_for_google(value: str) -> str | None:
    """`normalize_email`, then periods before @gmail.com / @googlemail.com removed."""
    email = normalize_email(value)
    if email is None:
        return None
    local, _, domain = email.rpartition("@")
    if domain in _GMAIL_DOMAINS:
        local = local.replace(".", "")
        if not local:
            return None
    return f"{local}@{domain}"


def normalize_phone_e164(value: str, default_region: str | None = None) -> str | None:
    """E.164 ('+' and digits) by Onefold's phone rule (`onefold.phones`, the one the
    identity graph matches on). Numbers without '+' need `default_region` (ISO
    alpha-2); None when the number cannot be a phone number of its country."""
    return e164_in_region(value, default_region)


def normalize_phone_for_meta(value: str, default_region: str | None = None) -> str | None:
    """Meta: digits only, country code first, no '+' and no leading zeros."""
    e164 = normalize_phone_e164(value, default_region)
    return None if e164 is None else e164.lstrip("+")


def normalize_name_for_google(value: str) -> str | None:
    """Google first name: lower-cased, spaces trimmed and single between words."""
    name = _WHITESPACE_RUN.sub(" ", _nfc_lower(value))
    return name or None


def normalize_last_name_for_google(value: str) -> str | None:
    """Google last name: as a first name, and without punctuation ("lower case only and
    no punctuation")."""
    stripped = "".join(c for c in _nfc_lower(value) if unicodedata.category(c)[0] != "P")
    return normalize_name_for_google(stripped)


def normalize_country_code(value: str) -> str | None:
    """ISO 3166-1 alpha-2, lower-cased; None for anything else."""
    code = value.strip().lower()
    return code if _COUNTRY_CODE.fullmatch(code) else None


def normalize_postcode_for_google(value: str) -> str | None:
    """Sent unhashed: trimmed, single spaces."""
    postcode = _WHITESPACE_RUN.sub(" ", value.strip())
    return postcode or None


def normalize_name_for_meta(value: str) -> str | None:
    """Meta FN/LN and CT: lower-case letters only (accented letters kept, UTF-8)."""
    return _letters_only(_nfc_lower(value)) or None


def normalize_state_for_meta(value: str, country_code: str | None) -> str | None:
    """Lower-case letters only; a US state's full name becomes its 2-letter code when the
    country is the US or unknown."""
    letters = _letters_only(_nfc_lower(value))
    if not letters:
        return None
    if country_code in (None, "us"):
        return US_STATE_CODES.get(letters, letters)
    return letters


def normalize_postcode_for_meta(value: str, country_code: str | None) -> str | None:
    """Lower-case, no spaces; US: first 5 digits; UK: area/district/sector
    ("SW1A 1AA" -> "sw1a1")."""
    compact = "".join(_nfc_lower(value).split())
    if not compact:
        return None
    if country_code == "us":
        digits = compact.split("-")[0]
        return digits[:5] if digits[:5].isdigit() else None
    if country_code == "gb":
        # The inward code is a digit and two letters; the sector keeps its digit.
        return compact[:-2] if len(compact) >= 5 else None
    return compact


@dataclass(frozen=True)
class AudienceFields:
    """Payload keys an audience file reads (the `customers` mart's column names)."""

    email: str = "email"
    phone: str = "phone"
    first_name: str = "first_name"
    last_name: str = "last_name"
    city: str = "city"
    state: str = "state"
    postcode: str = "postcode"
    country_code: str = "country_code"


AUDIENCE_FIELDS = AudienceFields()

GOOGLE_CUSTOMER_MATCH_COLUMNS = ("Email", "Phone", "First Name", "Last Name", "Country", "Zip")
META_CUSTOM_AUDIENCE_COLUMNS = ("email", "phone", "fn", "ln", "ct", "st", "zip", "country")


def _text(payload: Mapping[str, Any], field: str) -> str | None:
    value = payload.get(field)
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _hashed(
    payload: Mapping[str, Any], field: str, normalize: Callable[[str], str | None]
) -> str | None:
    text = _text(payload, field)
    return None if text is None else hash_identifier(text, normalize)


def google_customer_match_row(
    payload: Mapping[str, Any], default_phone_region: str | None = None
) -> dict[str, str] | None:
    """One Customer Match row (Email, Phone, First Name, Last Name hashed; Country and
    Zip plain), or None when nothing in it can match: an email, a phone, or first name
    + last name + country + zip."""
    fields = AUDIENCE_FIELDS
    country_text = _text(payload, fields.country_code)
    country = normalize_country_code(country_text) if country_text else None
    region = country or default_phone_region
    zip_text = _text(payload, fields.postcode)
    row = {
        "Email": _hashed(payload, fields.email, normalize_email_for_google),
        "Phone": _hashed(payload, fields.phone, lambda v: normalize_phone_e164(v, region)),
        "First Name": _hashed(payload, fields.first_name, normalize_name_for_google),
        "Last Name": _hashed(payload, fields.last_name, normalize_last_name_for_google),
        "Country": country.upper() if country else None,
        "Zip": normalize_postcode_for_google(zip_text) if zip_text else None,
    }
    has_address = all(row[c] for c in ("First Name", "Last Name", "Country", "Zip"))
    if not (row["Email"] or row["Phone"] or has_address):
        return None
    return {column: row[column] or "" for column in GOOGLE_CUSTOMER_MATCH_COLUMNS}


def meta_custom_audience_row(
    payload: Mapping[str, Any], default_phone_region: str | None = None
) -> dict[str, str] | None:
    """One Custom Audience row, every column hashed, or None when nothing in it can
    match: an email, a phone, or first + last name."""
    fields = AUDIENCE_FIELDS
    country_text = _text(payload, fields.country_code)
    country = normalize_country_code(country_text) if country_text else None
    region = country or default_phone_region
    row = {
        "email": _hashed(payload, fields.email, normalize_email),
        "phone": _hashed(payload, fields.phone, lambda v: normalize_phone_for_meta(v, region)),
        "fn": _hashed(payload, fields.first_name, normalize_name_for_meta),
        "ln": _hashed(payload, fields.last_name, normalize_name_for_meta),
        "ct": _hashed(payload, fields.city, normalize_name_for_meta),
        "st": _hashed(payload, fields.state, lambda v: normalize_state_for_meta(v, country)),
        "zip": _hashed(payload, fields.postcode, lambda v: normalize_postcode_for_meta(v, country)),
        "country": _hashed(payload, fields.country_code, normalize_country_code),
    }
    if not (row["email"] or row["phone"] or (row["fn"] and row["ln"])):
        return None
    return {column: row[column] or "" for column in META_CUSTOM_AUDIENCE_COLUMNS}
