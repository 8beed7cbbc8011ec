"""A resident's NIK, phone and tracking code: the rules of what a home-visit request may carry.

Rules
- NIK, each check with its own message, in this order: exactly 16 digits (spaces ignored); the
  first six digits are a kecamatan present in the area list; that kecamatan lies inside the
  campaign's root, otherwise the message names the city (kabupaten/kota) that issued the NIK,
  looked up in the area list or else the official list; digits 7-12 are a real birth date DDMMYY,
  women's day plus 40; the resident is 17 or older on the day of the request.
  Two-digit years: the most recent century that does not put the birth date after the day of the
  request (20YY, else 19YY). A NIK cannot say more; the price is that someone born 100 or more
  years ago with YY up to the current year's reads as a child and must be registered by staff
  through the office. (NIKs issued before Tangerang Selatan split from Kabupaten Tangerang in 2008
  start with 36.03 and are, by this rule, another city's.) Messages never quote the NIK.
- Phone: Indonesian mobile numbers written 08..., +628... or 628... (spaces, dots, dashes and
  brackets ignored), 10 to 13 digits in the 08 form; stored as +628....
- Tracking code: 8 characters from `secrets` over an alphabet without 0/O and 1/I/L, grouped
  `HV-XXXX-XXXX` for reading aloud (31^8, about 8.5e11 codes); unique in the database. Lookups
  ignore case, spaces and dashes.
- Lists and stats mask NIK and phone to their last 4 digits (`mask_digits`).
"""

import asyncio
import re
import secrets
from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.area_codes import depth_of, is_within
from api.areas import service as areas
from api.areas.models import Area
from api.campaigns.models import Campaign

ADULT_AGE = 17
TRACKING_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
TRACKING_LENGTH = 8
TRACKING_PREFIX = "HV"

_NIK = re.compile(r"^[0-9]{16}$")  # ASCII only: \d also matches ０-９, ٠-٩ (issue #17, item 5)
_PHONE_SEPARATORS = re.compile(r"[\s.\-()]")
_MOBILE_SUBSCRIBER = re.compile(r"^8[0-9]{8,11}$")


def new_tracking_code() -> str:
    chars = "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(TRACKING_LENGTH))
    return f"{TRACKING_PREFIX}-{chars[:4]}-{chars[4:]}"


def normalize_tracking_code(raw: str) -> str | None:
    """The stored form of a code as people type or read it (any case, with or without dashes)."""
    chars = re.sub(r"[^0-9A-Za-z]", "", raw).upper()
    if len(chars) == TRACKING_LENGTH + len(TRACKING_PREFIX) and chars.startswith(TRACKING_PREFIX):
        chars = chars[len(TRACKING_PREFIX) :]
    if len(chars) != TRACKING_LENGTH or any(c not in TRACKING_ALPHABET for c in chars):
        return None
    return f"{TRACKING_PREFIX}-{chars[:4]}-{chars[4:]}"


def normalize_phone(raw: str) -> str | None:
    """+628... for an Indonesian mobile number written 08..., +628... or 628...; None otherwise."""
    number = _PHONE_SEPARATORS.sub("", raw)
    for prefix in ("+62", "62", "0"):
        if number.startswith(prefix):
            subscriber = number[len(prefix) :]
            return "+62" + subscriber if _MOBILE_SUBSCRIBER.match(subscriber) else None
    return None


def kecamatan_of_nik(nik: str) -> str:
    return f"{nik[0:2]}.{nik[2:4]}.{nik[4:6]}"


def birth_date_of_nik(nik: str, *, on: date) -> date | None:
    """The birth date in digits 7-12 (DDMMYY, women's DD + 40), or None when it is not a date.

    The century is the most recent one that does not put the birth after `on`."""
    day, month, year = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    if day > 40:
        day -= 40
    for century in (2000, 1900):
        try:
            born = date(century + year, month, day)
        except ValueError:
            continue
        if born <= on:
            return born
    return None


def age_on(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def mask_digits(value: str) -> str:
    return "*" * max(len(value) - 4, 0) + value[-4:]


@lru_cache(maxsize=256)
def _official_names(kecamatan_code: str) -> dict[str, str]:
    """Names of the kecamatan and its ancestors in the official list (read on the error path only)."""
    return {row["code"]: row["name"] for row in areas.read_official_rows(kecamatan_code) if depth_of(row["code"]) <= 3}


async def nik_problem(session: AsyncSession, *, nik: str, campaign: Campaign, on: date) -> tuple[str, dict[str, Any]] | None:
    """Why this NIK cannot ask for a visit in this campaign (a code and its params), or None.
    Never quotes the NIK: the params are places and an age."""
    if not _NIK.match(nik):
        return "nik.digits", {}
    kecamatan_code = kecamatan_of_nik(nik)
    root = campaign.root_area_code
    kecamatan = await session.get(Area, kecamatan_code)
    if kecamatan is None or not is_within(kecamatan_code, root):
        official = await asyncio.to_thread(_official_names, kecamatan_code)
        if kecamatan is None and (kecamatan_code not in official or is_within(kecamatan_code, root)):
            return "nik.unknown_kecamatan", {}
        city_code = kecamatan_code.rsplit(".", 1)[0]
        named = {a.code: a.name for a in (await session.scalars(select(Area).where(Area.code.in_([city_code, root, kecamatan_code])))).all()}
        city = named.get(city_code) or official.get(city_code) or city_code
        root_name = named.get(root, root)
        if is_within(root, city_code):
            place = named.get(kecamatan_code) or official.get(kecamatan_code) or kecamatan_code
            return "nik.other_kecamatan", {"place": place, "root": root_name}
        return "nik.other_region", {"city": city, "root": root_name}
    born = birth_date_of_nik(nik, on=on)
    if born is None:
        return "nik.birth_date", {}
    if age_on(born, on) < ADULT_AGE:
        return "nik.too_young", {"age": ADULT_AGE}
    return None
