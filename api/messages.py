"""The server's words, in Bahasa Indonesia and English, keyed by the stable codes of the API.

Rules
- Every code an error or a field error carries has one entry here, `code: (Indonesian, English)`,
  with `{name}` placeholders filled from the error's `params` (tests/test_messages.py checks that
  every code raised in `api/` is here and in the SPA's catalogues). The codes are the contract:
  integrators and the SPA translate them; `title`, `detail` and `message` are for people.
- Language: `negotiate(Accept-Language)` picks `id` or `en`; Indonesian when neither is asked for,
  since Rekam's people are Indonesian. The CLI picks from the environment (`LANG=id_ID...`).
- Values are formatted for the reader: in Indonesian, dates as "2 Januari 2027", whole numbers
  with a dot per thousand (1.234), decimals with a comma; in English, dates stay ISO (2027-01-02,
  unambiguous for integrators reading logs) and numbers plain.
- Params never carry personal data (NIK, phone, address, a reporter): only codes, counts, dates,
  limits, statuses and the names of places, offices, devices and (in staff-only answers) staff.
- A class's generic code (`not_found`, `conflict`...) raised with a hand-written English detail is
  shown in English as written and in Indonesian as the generic sentence: no English sentence
  reaches an Indonesian reader even from a raise that has no code of its own yet.
"""

import os
import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

LANGUAGES = ("id", "en")
DEFAULT_LANGUAGE = "id"

_MONTHS_ID = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober", "November", "Desember")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


def negotiate(header: str | None) -> str:
    """`id` or `en` from an Accept-Language header (q-values honoured, first wins a tie); `id` by default."""
    best, best_q = DEFAULT_LANGUAGE, 0.0
    for part in (header or "").split(","):
        tag, *options = part.strip().split(";")
        quality = 1.0
        for option in options:
            name, _, value = option.strip().partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGUAGES and quality > best_q:
            best, best_q = primary, quality
    return best


def language_of_environment(environ: Mapping[str, str] | None = None) -> str:
    """`id` when the locale (LC_ALL, LC_MESSAGES, LANG in POSIX's order, then GNU's LANGUAGE) is
    Indonesian, else `en`: the language of the CLI's summaries."""
    environ = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        value = environ.get(name)
        if value:
            return "id" if value.lower().startswith(("id", "in_")) else "en"
    return "en"


def format_value(value: Any, lang: str) -> str:
    """One parameter as a reader of `lang` writes it."""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, str) and _ISO_DATE.match(value):  # a date that went through JSON (`json_params`)
        value = date.fromisoformat(value)
    if isinstance(value, date):
        return f"{value.day} {_MONTHS_ID[value.month - 1]} {value.year}" if lang == "id" else value.isoformat()
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return f"{value:,}".replace(",", ".") if lang == "id" else str(value)
    if isinstance(value, float):
        text = f"{value:,.1f}".removesuffix(".0") if value != int(value) else f"{int(value):,}"
        return text.replace(",", "\0").replace(".", ",").replace("\0", ".") if lang == "id" else text.replace(",", "")
    if isinstance(value, list | tuple):
        return ", ".join(format_value(v, lang) for v in value)
    return str(value)


def json_params(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """`params` as JSON carries them: dates as ISO text, the rest as they are."""

    def plain(value: Any) -> Any:
        if isinstance(value, datetime):
            value = value.date()
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        return value.isoformat() if isinstance(value, date) else value

    return {name: plain(value) for name, value in (params or {}).items()}


# Values the params carry that are words (a status, what kind of thing), worded per language: a
# param is looked up here by its name's group (`TERM_PARAMS`); a value not listed is shown as sent.
TERM_PARAMS = {
    "status": "status", "target": "status", "allowed": "status", "move": "move", "what": "what", "level": "level", "parent_level": "level",
    "kind": "kind", "finish_before": "finish", "finish_after": "finish", "source_finish": "finish",
}  # fmt: skip
TERMS: dict[str, dict[str, tuple[str, str]]] = {
    "status": {
        "waiting": ("menunggu", "waiting"), "called": ("dipanggil", "called"), "serving": ("dilayani", "serving"), "done": ("selesai", "done"),
        "no_show": ("tidak hadir", "no-show"), "cancelled": ("dibatalkan", "cancelled"), "booked": ("terpesan", "booked"),
        "checked_in": ("sudah check-in", "checked in"), "active": ("aktif", "active"), "faulty": ("rusak", "faulty"),
        "in_repair": ("dalam perbaikan", "in repair"), "returned": ("dikembalikan", "returned"), "retired": ("dipensiunkan", "retired"),
        "suspended": ("diskors", "suspended"), "left": ("sudah keluar", "left"), "gone": ("terhapus", "gone"), "received": ("diterima", "received"),
        "investigating": ("diselidiki", "investigating"), "substantiated": ("terbukti", "substantiated"),
        "unsubstantiated": ("tidak terbukti", "unsubstantiated"), "action_taken": ("sudah ditindak", "action taken"), "closed": ("ditutup", "closed"),
        "submitted": ("diajukan", "submitted"), "triaged": ("dipilah", "triaged"), "scheduled": ("dijadwalkan", "scheduled"),
        "visited": ("sudah dikunjungi", "visited"), "unreachable": ("tidak dapat dihubungi", "unreachable"),
    },
    "move": {
        "start": ("dimulai", "started"), "complete": ("diselesaikan", "completed"), "no_show": ("ditandai tidak hadir", "marked no-show"),
        "recall": ("dipanggil ulang", "recalled"), "cancel": ("dibatalkan", "cancelled"),
    },
    "what": {
        "device": ("perangkat", "device"), "operator": ("petugas", "operator"), "user": ("pengguna", "user"), "campaign": ("kampanye", "campaign"),
        "service point": ("tempat layanan", "service point"), "webhook subscription": ("langganan webhook", "webhook subscription"),
        "webhook delivery": ("pengiriman webhook", "webhook delivery"), "API key": ("kunci API", "API key"), "import": ("impor", "import"),
        "ticket": ("tiket", "ticket"), "closure": ("penutupan", "closure"), "home-visit request": ("permintaan kunjungan rumah", "home-visit request"),
        "mobile kit": ("perangkat keliling", "mobile kit"), "record": ("data", "record"),
    },
    "kind": {
        "static": ("statis", "static"), "mobile": ("keliling", "mobile"),
        "warning": ("teguran", "warning"), "suspension": ("penangguhan", "suspension"), "removal": ("pemberhentian", "removal"),
    },
    "finish": {"never": ("tidak pernah", "never")},
    "level": {
        "negara": ("negara", "country"), "provinsi": ("provinsi", "province"), "kabkota": ("kabupaten/kota", "regency/city"),
        "kecamatan": ("kecamatan", "kecamatan"), "kelurahan": ("kelurahan", "kelurahan"), "rw": ("RW", "RW"), "rt": ("RT", "RT"),
    },
}  # fmt: skip


def _term(name: str, value: Any, lang: str) -> Any:
    group = TERMS.get(TERM_PARAMS.get(name, ""), {})
    if isinstance(value, list | tuple):
        return [_term(name, v, lang) for v in value] if value else ["—"]
    words = group.get(str(value)) if isinstance(value, str) else None
    return words[0 if lang == "id" else 1] if words else value


def known(code: str) -> bool:
    return code in MESSAGES


def render(code: str, params: Mapping[str, Any] | None = None, lang: str = DEFAULT_LANGUAGE, *, catalogue: Mapping[str, tuple[str, str]] | None = None) -> str:
    """The text of `code` in `lang` with `params` filled in; KeyError for a code not in the
    catalogue (`MESSAGES`, or the CLI's `CLI`)."""
    indonesian, english = (MESSAGES if catalogue is None else catalogue)[code]
    template = indonesian if lang == "id" else english
    values = {name: _term(name, value, lang) for name, value in (params or {}).items()}
    text = _PLACEHOLDER.sub(lambda m: format_value(values[m.group(1)], lang) if m.group(1) in values else m.group(0), template)
    # A sentence that opens with a param ("{what} ini tidak ada") still opens with a capital.
    return text[:1].upper() + text[1:] if template.startswith("{") else text


def title(status: int, lang: str) -> str:
    indonesian, english = TITLES.get(status) or TITLES[0]
    return indonesian if lang == "id" else english


TITLES: dict[int, tuple[str, str]] = {
    0: ("Permintaan gagal", "Request failed"),
    400: ("Permintaan tidak dapat diproses", "Bad request"),
    401: ("Belum masuk", "Not signed in"),
    403: ("Tidak diizinkan", "Forbidden"),
    404: ("Tidak ditemukan", "Not found"),
    405: ("Metode tidak diizinkan", "Method not allowed"),
    409: ("Bertentangan dengan data yang ada", "Conflict"),
    413: ("Terlalu besar", "Payload too large"),
    415: ("Jenis isi tidak diterima", "Unsupported media type"),
    422: ("Permintaan tidak valid", "Invalid request"),
    429: ("Terlalu banyak permintaan", "Too many requests"),
    500: ("Kesalahan server", "Internal server error"),
    503: ("Layanan tidak tersedia", "Service unavailable"),
}

# The codes of the error classes themselves: a raise without a code of its own carries one of these.
GENERIC: frozenset[str] = frozenset(
    {
        "error", "bad_request", "unauthorized", "forbidden", "not_found", "method_not_allowed", "conflict", "payload_too_large",
        "unsupported_media_type", "validation.invalid", "validation.rule", "too_many_requests", "internal", "service_unavailable", "invalid",
    }
)  # fmt: skip

MESSAGES: dict[str, tuple[str, str]] = {
    "queue.number_held": (
        "Ponsel ini sudah memegang nomor di {point} hari ini; satu nomor sekali waktu. Ambil lagi setelah nomor itu dilayani, atau ambil di tempat.",
        "This phone already holds a number at {point} today; one at a time. Take the next once it is served, or take one on site.",
    ),
    "appointment.nik_booked": (
        "NIK ini sudah punya janji temu pada {day}; satu per hari. Batalkan dulu untuk memesan yang lain.",
        "This NIK already has a booking on {day}; one a day. Cancel it to book another.",
    ),
    "nik.booked_that_day": ("sudah memesan pada hari itu", "already booked that day"),
    "booking.nik_needed": (
        "Pemesanan memerlukan NIK warga (16 angka): satu NIK untuk satu janji temu per hari.",
        "A booking needs the resident's NIK (16 digits): one NIK books one appointment a day.",
    ),
    "count.before_day": (
        "Jumlah suatu hari diisi pada hari itu atau sesudahnya, tidak sebelumnya.",
        "A day's count is entered on that day or later, not before.",
    ),
    "count.event_day": ("Layanan akhir pekan ini diadakan pada {day}.", "This weekend service is held on {day}."),
    "plan.past": ("Rencanakan akhir pekan mendatang, bukan yang sudah lewat.", "Plan a coming weekend, not a past one."),
    "plan.area_needed": (
        "Pilih wilayah yang direncanakan (kecamatan, kelurahan, atau kota kampanye).",
        "Give the area to plan (a kecamatan, a kelurahan or the campaign's city).",
    ),
    "placement.outside_campaign": (
        "Tanggal penempatan harus berada dalam masa kampanye wilayah ini ({start} sampai {end}).",
        "A place's dates must lie within a campaign of this area ({start} to {end}).",
    ),
    "placement.outside_window": (
        "Tanggal penempatan harus dalam {days} hari dari hari ini (tidak ada kampanye di wilayah ini).",
        "A place's dates must lie within {days} days of today (no campaign runs here).",
    ),
    # --- the classes' generic codes -------------------------------------------------------------
    "error": ("Permintaan gagal.", "The request failed."),
    "bad_request": ("Permintaan tidak dapat diproses.", "The request cannot be processed."),
    "unauthorized": ("Anda perlu masuk untuk ini.", "Valid credentials are required."),
    "forbidden": ("Anda tidak berwenang melakukan ini.", "You may not do this."),
    "not_found": ("Data yang dicari tidak ditemukan.", "There is nothing here."),
    "method_not_allowed": ("Metode ini tidak diizinkan di alamat ini.", "This method is not allowed here."),
    "conflict": ("Permintaan ini bertentangan dengan keadaan data saat ini.", "The request conflicts with the current state."),
    "payload_too_large": ("Isi permintaan terlalu besar.", "The body is too large."),
    "unsupported_media_type": ("Jenis isi ini tidak diterima.", "This media type is not accepted."),
    "validation.invalid": ("Ada isian yang belum benar.", "Some fields are not valid."),
    "validation.rule": ("Isian ini melanggar aturan kampanye.", "The request breaks a rule of the campaign."),
    "validation.fields": ("{count} isian perlu diperbaiki.", "{count} fields need attention."),
    "validation.out_of_range": ("Sebuah nilai di luar batas untuk isiannya.", "A value is out of range for its field."),
    "validation.unknown_parameter": ("Parameter kueri tidak dikenal: {names}.", "Unknown query parameter: {names}."),
    "too_many_requests": ("Terlalu banyak permintaan; coba lagi dalam {seconds} detik.", "Too many requests; try again in {seconds} seconds."),
    "internal": ("Terjadi kesalahan tak terduga.", "An unexpected error occurred."),
    "service_unavailable": ("Layanan sedang sibuk atau tidak terjangkau; coba lagi sebentar lagi.", "The service is busy or unreachable; try again shortly."),
    "nothing_here": ("Tidak ada apa pun di alamat ini.", "There is nothing at this address."),
    "duplicate": (
        "Data yang sama baru saja dibuat oleh permintaan lain; muat ulang dan coba lagi.",
        "An equal record was just created by another request; reload and try again.",
    ),
    # --- one field (pydantic's validation, mapped in api.errors) ------------------------------------
    "invalid": ("Nilai tidak valid.", "Not a valid value."),
    "missing": ("Wajib diisi.", "Field required."),
    "too_long": ("Paling banyak {max_length} karakter.", "At most {max_length} characters."),
    "too_short": ("Paling sedikit {min_length} karakter.", "At least {min_length} characters."),
    "too_many": ("Paling banyak {max_length} isian.", "At most {max_length} items."),
    "too_few": ("Paling sedikit {min_length} isian.", "At least {min_length} items."),
    "at_least": ("Harus {limit} atau lebih.", "Must be {limit} or more."),
    "above": ("Harus lebih dari {limit}.", "Must be more than {limit}."),
    "at_most": ("Harus {limit} atau kurang.", "Must be {limit} or less."),
    "below": ("Harus kurang dari {limit}.", "Must be less than {limit}."),
    "not_integer": ("Harus berupa bilangan bulat.", "Must be a whole number."),
    "not_number": ("Harus berupa angka.", "Must be a number."),
    "not_text": ("Harus berupa teks.", "Must be text."),
    "not_boolean": ("Harus ya atau tidak (true/false).", "Must be true or false."),
    "not_date": ("Harus berupa tanggal (TTTT-BB-HH).", "Must be a date (YYYY-MM-DD)."),
    "not_datetime": ("Harus berupa tanggal dan jam.", "Must be a date and time."),
    "not_time": ("Harus berupa jam (JJ:MM).", "Must be a time (HH:MM)."),
    "not_allowed": ("Harus salah satu dari: {allowed}.", "Must be one of: {allowed}."),
    "not_object": ("Harus berupa objek JSON.", "Must be a JSON object."),
    "not_list": ("Harus berupa daftar.", "Must be a list."),
    "pattern": ("Bentuknya tidak sesuai.", "Does not have the expected form."),
    "unknown_field": ("Isian ini tidak dikenal.", "This field is not known."),
    "unknown_parameter": ("Parameter kueri ini tidak dikenal.", "Unknown query parameter."),
    "invalid_json": ("Isi permintaan bukan JSON yang valid.", "The body is not valid JSON."),
    "unknown_reference": ("Tidak ada data dengan nomor ini.", "Nothing has this id."),
    "window.order": ("Jam selesai harus setelah jam mulai.", "The end must be after the start."),
    "campaign.deadline_order": ("Tenggat tidak boleh sebelum tanggal mulai.", "The deadline must not be before the start date."),
    "area.not_code": (
        "Bukan kode wilayah; kode berbentuk 36, 36.74, 36.74.01, 36.74.01.1001, 36.74.01.1001.003 (RW) atau 36.74.01.1001.003.005 (RT).",
        "Not an area code; codes look like 36, 36.74, 36.74.01, 36.74.01.1001, 36.74.01.1001.003 (RW) or 36.74.01.1001.003.005 (RT).",
    ),
    "body.too_large": (
        "Isi permintaan lebih besar dari yang diterima alamat ini ({limit} bita).",
        "The request body is larger than this endpoint accepts ({limit} bytes).",
    ),
    "body.length_invalid": ("Header Content-Length bukan angka.", "The Content-Length header is not a number."),
    # --- home visits (public form) ---------------------------------------------------------------
    "nik.digits": ("NIK harus tepat 16 angka.", "The NIK must be exactly 16 digits."),
    "nik.unknown_kecamatan": (
        "Enam angka pertama NIK bukan kode kecamatan yang dikenal. Periksa lagi NIK di Kartu Keluarga.",
        "The first six digits of the NIK are not the code of a known kecamatan.",
    ),
    "nik.other_kecamatan": (
        "NIK ini diterbitkan di kecamatan {place}, di luar wilayah kampanye ({root}). Silakan ajukan di sana.",
        "The NIK was issued in kecamatan {place}, outside this campaign's area ({root}); please ask there.",
    ),
    "nik.other_region": (
        "NIK ini diterbitkan di {city}, kota lain: kampanye ini merekam warga {root}. Silakan ajukan perekaman ke {city}.",
        "The NIK was issued in {city}, another city: this campaign records residents of {root}. Please ask {city} for recording.",
    ),
    "nik.birth_date": (
        "Angka ke-7 sampai ke-12 NIK bukan tanggal lahir yang benar (HHBBTT, untuk perempuan tanggal ditambah 40).",
        "Digits 7 to 12 of the NIK are not a real birth date (DDMMYY, with 40 added to the day for women).",
    ),
    "nik.too_young": (
        "Warga harus berusia {age} tahun atau lebih pada hari permintaan untuk direkam e-KTP.",
        "The resident must be {age} or older on the day of the request to be recorded for an e-KTP.",
    ),
    "phone.invalid": (
        "Tulis nomor HP Indonesia: 08…, +628… atau 628… (10 sampai 13 angka dalam bentuk 08…).",
        "Give an Indonesian mobile number written 08..., +628... or 628... (10 to 13 digits in the 08 form).",
    ),
    "visit.consent": (
        "Kami memerlukan persetujuan untuk menghubungi warga; tanpa itu kunjungan tidak dapat diatur.",
        "We need the resident's consent to contact them, or the visit cannot be arranged.",
    ),
    "visit.area_level": (
        "Pilih kelurahan warga (boleh juga RW atau RT-nya).",
        "Give the code of the resident's kelurahan, or of their RW or RT (e.g. 36.74.01.1001 or 36.74.01.1001.003).",
    ),
    "visit.area_unknown": (
        "Kelurahan, RW atau RT ini tidak ada di daftar; pilih kelurahannya saja.",
        "There is no kelurahan, RW or RT with this code; if the RW/RT is not listed, give the kelurahan.",
    ),
    "date.past": ("Tanggal tidak boleh sudah lewat.", "The date cannot be in the past."),
    "date.after_deadline": (
        "Tanggal tidak boleh melewati tenggat kampanye ({deadline}).",
        "The date cannot be after the campaign's deadline, {deadline}.",
    ),
    "visit.try_again": ("Permintaan belum dapat disimpan; silakan kirim lagi.", "The request could not be stored just now; please send it again."),
    "visit.tracking_unknown": ("Tidak ada permintaan kunjungan dengan kode lacak ini.", "There is no home-visit request with this tracking code."),
    "campaign.none_for_area": (
        "Tidak ada kampanye perekaman yang berjalan hari ini untuk wilayah ini.",
        "No recording campaign is running for this area on this day.",
    ),
    # --- queues and bookings (public) ------------------------------------------------------------
    "queue.closed": ("{point} sedang tidak melayani pengambilan nomor; lihat jam bukanya.", "{point} is not taking numbers now; see its hours."),
    "queue.priority_from_booking": ("Prioritas janji temu hanya dari check-in sebuah janji.", "Appointment priority comes from checking in a booking."),
    "ticket.unknown": ("Tidak ada tiket dengan nomor dan kode itu.", "There is no ticket with that number and code."),
    "booking.too_far": ("Janji temu paling jauh {days} hari ke depan.", "Bookings open at most {days} days ahead."),
    "booking.no_slot": (
        "Tidak ada slot yang mulai pada jam itu; lihat daftar slot tanggal itu.",
        "There is no slot starting then; see the point's slots for that date.",
    ),
    "booking.slot_begun": ("Slot itu sudah dimulai.", "That slot has begun already."),
    "booking.slot_full": ("Slot itu sudah penuh; pilih yang lain.", "That slot is full; pick another."),
    "booking.unknown": ("Tidak ada janji temu dengan kode itu.", "There is no booking with that code."),
    "booking.not_booked": (
        "Janji temu ini berstatus {status}; hanya janji yang masih terpesan yang dapat diubah.",
        "The booking is {status}; only a booked one can be changed.",
    ),
    "booking.not_today": ("Janji temu ini untuk {day}, bukan hari ini.", "The booking is for {day}, not today."),
    # --- complaints (public) ---------------------------------------------------------------------
    "complaint.receipt_unknown": ("Tidak ada pengaduan dengan tanda terima ini.", "There is no complaint with this receipt."),
    "complaint.unknown": ("Pengaduan ini tidak ditemukan.", "There is no such complaint."),
    "complaint.point_unknown": ("Tempat layanan ini tidak ada; pilih dari daftar.", "There is no such service point."),
    "complaint.area_level": (
        "Pilih kecamatan tempat kejadian (atau pilih tempat layanannya).",
        "Name a kecamatan or a place below it (e.g. 36.74.01).",
    ),
    "complaint.place_missing": ("Jelaskan tempatnya jika tempat layanan tidak dipilih.", "Describe the place when no service point is named."),
    "complaint.occurred_future": ("Tanggal kejadian tidak boleh di masa depan.", "The date is in the future."),
    "complaint.too_old": ("Laporkan pungutan dalam {days} hari terakhir.", "Report fees taken in the last {days} days."),
    "complaint.operator_unknown": ("Petugas ini tidak ada; gambarkan saja orangnya.", "There is no such operator; describe them instead."),
    "complaint.where_missing": (
        "Sebutkan tempatnya: tempat layanan, atau wilayah dan tempatnya.",
        "Say where: a service point, or an area and a place.",
    ),
    "complaint.where_both": ("Pilih tempat layanan atau wilayah, bukan keduanya.", "Give a service point or an area, not both."),
    "complaint.closed": (
        "Pengaduan ini sudah ditutup; untuk melaporkan hal baru, buat pengaduan baru.",
        "This complaint is closed; to report something new, file a new complaint.",
    ),
    # --- tallies: a post's rejected rows and warnings (`import.<ImportProblemCode>`) ----------------
    "tallies.rejected": (
        "{count} baris ditolak; tidak ada yang disimpan (atomic=true).",
        "{count} row(s) rejected; nothing was saved (atomic=true).",
    ),
    "tallies.json_too_large": (
        "Isi JSON paling besar {megabytes} MB; kirim sebagai CSV (dialirkan) atau bagi berkasnya.",
        "A JSON body may be {megabytes} MB at most; send CSV (streamed) or split the file.",
    ),
    "tallies.shape": ('Kirim {"tallies": [{"area", "date", "count", ...}, ...]}.', 'Send {"tallies": [{"area", "date", "count", ...}, ...]}.'),
    "csv.header": (
        "Baris judul CSV harus menyebut kolom {required} (dan boleh {optional}), masing-masing sekali.",
        "The CSV header must name the columns {required} (and optionally {optional}), each once.",
    ),
    "csv.header_column": ("kolom hilang, tidak dikenal atau berulang", "missing, unknown or repeated column"),
    "csv.not_utf8": ("CSV harus berupa teks UTF-8.", "The CSV must be UTF-8 text."),
    "csv.empty": ("CSV kosong; perlu baris judul area,date,count.", "The CSV is empty; it needs a header row area,date,count."),
    "import.invalid_row": ("baris harus berupa objek dengan area, date dan count", "a row must be an object with area, date and count"),
    "import.wrong_columns": ("sel lebih banyak daripada kolom di baris judul", "more cells than the header has columns"),
    "import.unknown_field": ("kolom tidak dikenal; kolom tally adalah {columns}", "unknown field; a tally has {columns}"),
    "import.invalid_area": ("bukan kode wilayah (seperti 36.74.01)", "not an area code (like 36.74.01)"),
    "import.above_kecamatan": ("tally dikirim untuk kecamatan atau wilayah di bawahnya", "tallies are posted for a kecamatan or an area below it"),
    "import.outside_campaign": ("di luar wilayah kampanye", "outside the campaign's area"),
    "import.outside_scope": ("di luar wilayah tugas Anda", "outside your scope"),
    "import.unknown_area": ("wilayah tidak dikenal", "unknown area"),
    "import.invalid_date": (
        "bukan tanggal; tulis TTTT-BB-HH atau HH/BB/TTTT (misalnya 2027-01-31 atau 31/01/2027)",
        "not a date; write YYYY-MM-DD or DD/MM/YYYY (e.g. 2027-01-31 or 31/01/2027)",
    ),
    "import.impossible_date": (
        "tanggal ini tidak ada (tanggal garis miring selalu hari/bulan/tahun; bulan paling besar 12)",
        "no such date (a slashed date is always day/month/year; the month is at most 12)",
    ),
    "import.mixed_date_format": (
        "tanggal ditulis {form}, sedangkan tanggal pertama berkas ditulis {first}: satu berkas memakai satu bentuk",
        "the date is written {form} while the file's first date is written {first}: one file keeps to one form",
    ),
    "import.before_start": ("sebelum kampanye dimulai ({start})", "before the campaign's start ({start})"),
    "import.in_future": ("di masa depan (hari ini {today}, {zone})", "in the future (today is {today} in {zone})"),
    "import.not_integer": ("bukan bilangan bulat", "not a whole number"),
    "import.negative": ("tidak boleh negatif", "must not be negative"),
    "import.too_large": ("lebih dari {max} dalam sehari: pasti salah ketik", "more than {max} in a day: surely a typo"),
    "import.invalid_reference": ("harus berupa nomor (id)", "must be an id"),
    "import.unknown_service_point": ("tempat layanan tidak dikenal", "unknown service point"),
    "import.not_in_area": ("tempat layanan tidak berada di wilayah ini", "the service point is not in this area"),
    "import.unknown_device": ("perangkat tidak dikenal", "unknown device"),
    "import.renamed_conflict": ("{new} juga dikirim dengan nilai lain; kirim {new} saja", "{new} is also given, with another value; send {new} only"),
    "import.unknown_source": ("harus salah satu dari {allowed}", "must be one of {allowed}"),
    "import.duplicate_key": (
        "wilayah, tanggal, tempat layanan dan perangkat yang sama sudah ada di baris sebelumnya",
        "the same area, date, service point and device appear earlier in this request",
    ),
    "import.after_deadline": ("setelah tenggat kampanye ({deadline})", "after the campaign's deadline ({deadline})"),
    "import.above_capacity": ("di atas kapasitas harian perangkat ({capacity})", "above the device's daily capacity ({capacity})"),
    "import.gap": (
        "{area} tidak punya tally pada {days} ({count} hari), di antara hari-hari yang dikirim",
        "{area} has no tally on {days} ({count} days), between posted days",
    ),
    # --- places and scope -------------------------------------------------------------------------
    "not_found.thing": ("{what} {id} tidak ada.", "There is no {what} {id}."),
    "not_found.such": ("{what} ini tidak ada.", "There is no such {what}."),
    "not_null": ("Isian ini tidak boleh dikosongkan.", "This field cannot be emptied."),
    "range.reversed": ("Tanggal akhir tidak boleh sebelum tanggal awal.", "The end must not be before the start."),
    "range.too_long": ("Paling banyak {days} hari sekaligus.", "At most {days} days at once."),
    "rows.invalid": ("{count} baris tidak valid; tidak ada yang disimpan.", "{count} row(s) are not valid; nothing was saved."),
    "rows.outside_scope": ("{count} baris di luar wilayah tugas Anda; tidak ada yang disimpan.", "{count} row(s) are outside your scope; nothing was saved."),
    "cursor.invalid": ("Kursor ini bukan buatan server ini.", "The cursor is not one this server gave out."),
    "renamed.conflict": (
        "Nama lama {old} dan nama baru {new} dikirim dengan nilai berbeda; kirim {new} saja.",
        "The old name {old} and the new name {new} were sent with different values; send {new} only.",
    ),
    "area.unknown": ("Tidak ada wilayah dengan kode {code}.", "There is no area with code {code}."),
    "area.exists": ("Wilayah {code} sudah ada.", "Area {code} already exists."),
    "area.parent_missing": ("{level} {code} belum ada; tambahkan dulu.", "The {level} {code} does not exist; add it first."),
    "area.official_level": (
        "Hanya RW dan RT yang dapat ditambahkan; {code} adalah {level}, yang berasal dari daftar resmi.",
        "Only RW and RT units can be added; {code} would be a {level}, which comes from the official list.",
    ),
    "area.official_name": (
        "Nama wilayah resmi hanya berubah lewat daftar resmi (`rekam areas load`).",
        "Official area names change only through the official list (`rekam areas load`).",
    ),
    "area.not_official": ("Tidak ada wilayah resmi dengan kode {code}.", "No official area has the code {code}."),
    "area.outside_campaign": ("Wilayah {code} di luar wilayah kampanye {root}.", "Area {code} is outside the campaign's area {root}."),
    "scope.area": ("Wilayah {code} di luar wilayah tugas Anda.", "Area {code} is outside your scope."),
    "scope.resource": (
        "{what} ini ditempatkan di wilayah {code} hari itu, di luar wilayah tugas Anda.",
        "The {what} is posted in area {code} that day, outside your scope.",
    ),
    "scope.point": ("Tempat layanan ini di luar wilayah tugas Anda.", "This service point is outside your scope."),
    "scope.campaign": ("Kampanye ini di luar wilayah tugas Anda.", "This campaign is outside your scope."),
    "scope.not_posted_here": ("{what} ini tidak ditempatkan di wilayah Anda hari ini.", "This {what} is not posted in your area today."),
    "status.move": ("Status tidak dapat berubah dari {status} menjadi {target}.", "The status cannot go from {status} to {target}."),
    "body.json_or_csv": ("Kirim application/json atau text/csv.", "Send application/json or text/csv."),
    "csv.no_rows": ("CSV tidak berisi baris data.", "The CSV has no rows."),
    "database.unready": (
        "Basis data tidak terjangkau atau belum dimigrasi; jalankan `rekam migrate`.",
        "The database is unreachable or not migrated; run `rekam migrate`.",
    ),
    "idempotency.key": ("Kunci harus 1 sampai {max_length} karakter yang dapat dicetak.", "The key must be 1 to {max_length} printable characters."),
    "idempotency.just_done": (
        "Permintaan dengan Idempotency-Key ini baru saja selesai; kirim lagi.",
        "A request with this Idempotency-Key was just completed; send it again.",
    ),
    "idempotency.reused": (
        "Idempotency-Key ini sudah dipakai untuk permintaan lain; gunakan kunci baru.",
        "This Idempotency-Key was used for a different request; use a new key.",
    ),
    # --- campaigns and targets -------------------------------------------------------------------
    "snapshot.future": (
        "{day} masih di masa depan; snapshot melaporkan yang sudah direkam.",
        "{day} is in the future; a snapshot reports what was already recorded.",
    ),
    "targets.header": ("CSV perlu baris judul dengan kolom area dan target.", "The CSV needs a header row with the columns area and target."),
    "targets.not_count": ("harus bilangan bulat mulai dari 0", "must be a whole number from 0"),
    "targets.repeated": ("{code} muncul dua kali", "{code} appears twice"),
    "targets.level_not_below": (
        "{level} tidak berada di bawah tingkat induknya ({parent_level}).",
        "{level} is not below the parent's level ({parent_level}).",
    ),
    "targets.parent_without_target": (
        "Wilayah {code} belum punya target untuk dibagi; tetapkan dulu.",
        "Area {code} has no target to apportion; set it first.",
    ),
    "targets.no_children": ("Wilayah {code} tidak punya {level} di bawahnya.", "Area {code} has no {level} below it."),
    "targets.population_unknown": ("Jumlah penduduk {codes} tidak diketahui; berikan bobot saja.", "No population is known for {codes}; give weights instead."),
    "targets.weights": (
        "Bobot harus menyebut setiap wilayah anak sekali dengan bobot mulai dari 0.",
        "The weights must name every child once with a weight from 0.",
    ),
    "targets.weight_not_child": ("bukan {level} di bawah {code}", "not a {level} below {code}"),
    "targets.weight_invalid": ("harus angka terhingga mulai dari 0", "must be a finite number from 0"),
    "targets.weights_zero": ("Paling sedikit satu bobot harus di atas nol.", "At least one weight must be above zero."),
    "tallies.none": ("Tidak ada tally dalam permintaan ini.", "There are no tallies in the request."),
    # --- service points, hours, weekend services, crews ------------------------------------------
    "hours.window_order": ("Jam layanan harus selesai setelah mulai ({start}–{end}).", "A window must end after it starts ({start}-{end})."),
    "hours.overlap": ("Jam {other_start}–{other_end} dan {start}–{end} bertumpang tindih.", "Windows {other_start}-{other_end} and {start}-{end} overlap."),
    "event.incomplete": ("Layanan akhir pekan perlu tanggal, jam mulai dan jam selesai.", "A weekend service needs its date, start and end."),
    "event.weekday": ("Layanan akhir pekan diadakan pada hari Sabtu atau Minggu.", "A weekend service is held on a Saturday or a Sunday."),
    "event.weekly_hours": (
        "Layanan akhir pekan punya satu tanggal dan jam, bukan jam mingguan.",
        "A weekend service has one date and window, not weekly hours.",
    ),
    "event.level": ("Layanan akhir pekan diadakan di tingkat RW atau RT.", "A weekend service is held at an RW or an RT."),
    "event.only_events": ("Hanya layanan akhir pekan yang punya tanggal dan jam acara.", "Only weekend services have an event date and window."),
    "point.closed": ("Tempat layanan {point} sudah ditutup.", "Service point {point} is closed."),
    "point.closure_exists": ("{point} sudah punya penutupan pada {day}; hapus dulu.", "{point} already has a closure on {day}; remove it first."),
    "point.slot_length_booked": (
        "Lama slot tidak dapat diubah selama masih ada janji temu; batalkan dulu.",
        "Slot length cannot change while bookings are open; cancel them first.",
    ),
    "queue.counter": ("{point} punya loket 1 sampai {counters}.", "{point} has counters 1 to {counters}."),
    "ticket.move": ("Tiket {number} berstatus {status}; tidak dapat {move}.", "Ticket {number} is {status}; it cannot be {move}."),
    "ticket.not_open": ("Tidak ada tiket terbuka {id}.", "There is no open ticket {id}."),
    "crew.busy": (
        "Sebagian perangkat atau petugas sudah berada di tempat lain pada {day}.",
        "Some devices or operators are already at another place on {day}.",
    ),
    "crew.at_event": ("di tempat layanan {point} hari itu", "at service point {point} that day"),
    "crew.on_visits": ("sedang kunjungan rumah hari itu", "on home visits that day"),
    "crew.device_not_free": (
        "ditempatkan di tempat lain, tidak aktif, atau harus dikembalikan ke pemberi pinjaman hari itu",
        "posted elsewhere, not active, or due back to its lender that day",
    ),
    "crew.operator_not_free": ("ditempatkan di tempat lain atau tidak aktif hari itu", "posted elsewhere or not active that day"),
    "crew.office_assignment": (
        "Perangkat dan petugas kantor diatur di modul perangkat; di sini hanya layanan akhir pekan.",
        "Devices and operators of offices are allocated in the devices module; only weekend services are assigned here.",
    ),
    "crew.not_linked": (
        "Akun Anda belum terhubung dengan petugas; minta admin menghubungkannya.",
        "Your account is not linked to an operator (petugas); ask an admin to link it.",
    ),
    "crew.not_active": ("Data petugas Anda berstatus {status}, tidak aktif.", "Your operator record is {status}, not active."),
    "commitment.booked": (
        "{what} ini sudah dipesan untuk layanan akhir pekan atau kunjungan rumah pada {day}; satu tempat dalam satu waktu.",
        "The {what} is booked for a weekend service or home visits on {day}; one place at a time.",
    ),
    "commitment.booked_on": ("dipesan di tempat lain pada {day}", "booked elsewhere on {day}"),
    # --- devices, operators, placements, planning ------------------------------------------------
    "device.not_active": ("Perangkat {serial} berstatus {status}, tidak aktif.", "Device {serial} is {status}, not active."),
    "device.serial_taken": ("Perangkat lain sudah memakai nomor seri {serial}.", "Another device has serial {serial}."),
    "device.loan_terms": (
        "Pinjaman menyebut pemberi pinjaman dan tanggal kembali; perangkat lain tidak punya keduanya.",
        "A loan names its lender and return date; other devices have neither.",
    ),
    "device.loan_needs": ("wajib untuk perangkat pinjaman", "required for a loan"),
    "device.only_loans": ("hanya perangkat pinjaman yang punya ini; kirim null", "only a loan has one; send null"),
    "device.city_office_only": (
        "Hanya kantor kota yang mengubah rincian perangkat; supervisor mengubah status dan catatannya.",
        "Only the city office changes a device's details; a supervisor changes its status and notes.",
    ),
    "device.city_office_field": ("hanya kantor kota", "city office only"),
    "device.return_not_loan": (
        "Hanya perangkat pinjaman yang dapat dikembalikan; pensiunkan perangkat ini.",
        "Only a loan can be returned; retire the device instead.",
    ),
    "operator.not_active": ("Petugas {staff_number} berstatus {status}, tidak aktif.", "Operator {staff_number} is {status}, not active."),
    "operator.staff_number_taken": ("Petugas lain sudah memakai nomor pegawai ini.", "Another operator has this staff number."),
    "placement.where": ("Pilih tempat layanan atau wilayah, bukan keduanya.", "Give either a service point or an area."),
    "placement.area_level": ("Tempatkan di kecamatan atau wilayah di bawahnya.", "Place it in a kecamatan or an area below one."),
    "placement.not_active": ("{what} berstatus {status} tidak dapat ditempatkan; hanya yang aktif.", "A {status} {what} cannot be posted; only an active one."),
    "placement.nowhere": ("{what} ini belum ditempatkan; kantor kota menempatkannya dulu.", "This {what} is placed nowhere; the city office places it first."),
    "placement.raced": ("{what} ini dipindahkan pada saat yang sama; coba lagi.", "The {what} was moved at the same time; try again."),
    "placement.overlap": (
        "{what} ini sudah ditempatkan dari {start} sampai {end}; satu tempat dalam satu waktu.",
        "The {what} is already placed from {start} to {end}; one place at a time.",
    ),
    "placement.overlap_open": (
        "{what} ini sudah ditempatkan sejak {start} sampai pemberitahuan lebih lanjut; satu tempat dalam satu waktu.",
        "The {what} is already placed from {start} to further notice; one place at a time.",
    ),
    "placement.overlap_period": ("bertumpang tindih dengan periode lain", "overlaps another period"),
    "placement.overlap_raced": (
        "{what} ini baru saja ditempatkan di tempat lain untuk periode ini; satu tempat dalam satu waktu.",
        "The {what} was placed elsewhere for this period at the same time; one place at a time.",
    ),
    "plan.movable": ("Sebagian perangkat yang dapat dipindah tidak dapat direncanakan.", "Some movable devices cannot be planned."),
    "plan.no_device": ("tidak ada perangkat {id}", "no device {id}"),
    "plan.device_not_active": ("perangkat {id} tidak aktif", "device {id} is not active"),
    # --- home visits (staff) ---------------------------------------------------------------------
    "visit.schedule_endpoint": (
        "Penjadwalan memerlukan perangkat, petugas, tanggal dan jam: gunakan fitur jadwal.",
        "Scheduling needs a kit, an operator, a date and a window: use the schedule endpoint.",
    ),
    "visit.crew_moves": (
        "Petugas hanya menandai kunjungannya sudah dikunjungi atau tidak dapat dihubungi; langkah lain oleh dispatcher.",
        "An operator marks their visits visited or unreachable; other moves are the dispatcher's.",
    ),
    "visit.too_early": (
        "Kunjungan dijadwalkan pada {day}; baru dapat ditandai dikunjungi mulai hari itu.",
        "The visit is planned for {day}; it can be marked visited from that day on.",
    ),
    "visit.kit_busy": ("Perangkat sedang dipakai kunjungan lain pada jam ini di hari itu.", "The kit is on another visit in this window that day."),
    "visit.operator_busy": ("Petugas sedang melakukan kunjungan lain pada jam ini di hari itu.", "The operator is on another visit in this window that day."),
    "visit.busy_window": ("sibuk pada jam ini", "busy in this window"),
    "visit.kit_day_full": (
        "Jadwal perangkat hari itu penuh: {booked} dari {capacity} kunjungan direncanakan.",
        "The kit's day is full: {booked} of {capacity} visits planned.",
    ),
    "visit.kit_static": (
        "Kunjungan rumah memakai perangkat perekaman keliling; perangkat ini statis.",
        "Home visits are made with a mobile enrollment kit; this device is static.",
    ),
    "visit.kit_not_active": ("Perangkat berstatus {status}, tidak aktif.", "The kit is {status}, not active."),
    "visit.kit_due_back": (
        "Perangkat pinjaman harus dikembalikan pada {day}, sebelum kunjungan.",
        "The loaned kit is due back on {day}, before the visit.",
    ),
    "visit.operator_not_active": ("Petugas berstatus {status}, tidak aktif.", "The operator is {status}, not active."),
    "visit.kit_posted": ("Perangkat ditempatkan di tempat lain hari itu.", "The kit is posted elsewhere that day."),
    "visit.operator_posted": ("Petugas ditempatkan di tempat lain hari itu.", "The operator is posted elsewhere that day."),
    "visit.kit_at_event": (
        "Perangkat berada di layanan akhir pekan (tempat layanan {point}) hari itu.",
        "The kit is at a weekend service (service point {point}) that day.",
    ),
    "visit.operator_at_event": (
        "Petugas berada di layanan akhir pekan (tempat layanan {point}) hari itu.",
        "The operator is at a weekend service (service point {point}) that day.",
    ),
    "visit.not_on_plan": ("Anda tidak ada dalam rencana perangkat ini pada hari itu.", "You are not on this kit's plan for that day."),
    "visit.closed": (
        "Permintaan berstatus {status} sudah ditutup: tidak dapat menjadi {target}.",
        "A {status} request is closed: it cannot become {target}.",
    ),
    "visit.move": (
        "Permintaan berstatus {status} tidak dapat menjadi {target}; langkah yang mungkin: {allowed}.",
        "A {status} request cannot become {target}; possible moves: {allowed}.",
    ),
    # --- allocation plan: what moves and why ------------------------------------------------------
    "plan.label.device": ("{serial} ({kind}, {capacity}/hari)", "{serial} ({kind}, {capacity}/day)"),
    "plan.label.new_device": ("perangkat {kind} baru ({capacity}/hari)", "new {kind} device ({capacity}/day)"),
    "plan.label.operator": ("petugas {id}", "operator {id}"),
    "plan.label.new_operator": ("petugas baru", "new operator"),
    "plan.device": (
        "{kecamatan} diperkirakan selesai {finish_before} dengan {capacity_before}/hari; perangkat ini menambah {adds}/hari (setelah rencana: {capacity_after}/hari, selesai {finish_after}).",
        "{kecamatan} is projected to finish {finish_before} at {capacity_before}/day; this device adds {adds}/day (after the plan: {capacity_after}/day, finish {finish_after}).",
    ),
    "plan.device_from": (
        "{kecamatan} diperkirakan selesai {finish_before} dengan {capacity_before}/hari; perangkat ini menambah {adds}/hari (setelah rencana: {capacity_after}/hari, selesai {finish_after}); {source} lalu selesai {source_finish}.",
        "{kecamatan} is projected to finish {finish_before} at {capacity_before}/day; this device adds {adds}/day (after the plan: {capacity_after}/day, finish {finish_after}); {source} then finishes {source_finish}.",
    ),
    "plan.operator": (
        "{kecamatan} diperkirakan selesai {finish_before} dengan {capacity_before}/hari; petugas ini menjalankan perangkat yang belum punya petugas (setelah rencana: {capacity_after}/hari, selesai {finish_after}).",
        "{kecamatan} is projected to finish {finish_before} at {capacity_before}/day; this operator staffs a device that has none (after the plan: {capacity_after}/day, finish {finish_after}).",
    ),
    "plan.operator_from": (
        "{kecamatan} diperkirakan selesai {finish_before} dengan {capacity_before}/hari; petugas ini menjalankan perangkat yang belum punya petugas (setelah rencana: {capacity_after}/hari, selesai {finish_after}); {source} lalu selesai {source_finish}.",
        "{kecamatan} is projected to finish {finish_before} at {capacity_before}/day; this operator staffs a device that has none (after the plan: {capacity_after}/day, finish {finish_after}); {source} then finishes {source_finish}.",
    ),
    # --- a complaint's history (entries Rekam words) ----------------------------------------------
    "history.assigned_handler": ("Penangan: {handler}.", "Handler: {handler}."),
    "history.assigned_operator": ("Petugas yang diadukan: {operator}.", "Operator complained about: {operator}."),
    "history.assigned_both": ("Penangan: {handler}; petugas yang diadukan: {operator}.", "Handler: {handler}; operator complained about: {operator}."),
    "history.sanction": ("Sanksi {kind} mulai {from}.", "{kind} from {from}."),
    "history.transition": ("{status} → {target}", "{status} → {target}"),
    # --- complaints (staff) ----------------------------------------------------------------------
    "complaint.stats_level": (
        "Statistik publik paling rinci sampai kecamatan (misalnya 36.74.01); wilayah lebih kecil dapat menunjuk satu orang.",
        "Public statistics go down to a kecamatan (e.g. 36.74.01); smaller areas could point at one person.",
    ),
    "complaint.handler_role": ("Tugaskan admin atau penangan pengaduan yang aktif.", "Assign an active admin or complaint handler."),
    "complaint.handler_self": ("Tidak ada yang menangani pengaduan tentang dirinya sendiri.", "Nobody handles a complaint about themselves."),
    "complaint.step": (
        "Pengaduan berstatus {status} tidak dapat menjadi {target}; langkah berikutnya: {allowed}.",
        "A {status} complaint cannot become {target}; next steps: {allowed}.",
    ),
    "complaint.not_next": ("bukan langkah berikutnya dari {status}", "not a next step from {status}"),
    "complaint.reporter_admin_only": ("Hanya admin yang boleh membuka identitas pelapor.", "Only an admin may open a reporter's identity."),
    "complaint.reporter_anonymous": ("Pelapor tidak meninggalkan nama atau kontak.", "The reporter left no name or contact."),
    "sanction.not_substantiated": (
        "Hanya pengaduan terbuka yang terbukti yang dapat diberi sanksi.",
        "Only an open, substantiated complaint can carry a sanction.",
    ),
    "sanction.operator_missing": ("Sebutkan dulu petugas yang diadukan.", "Name the operator the complaint is about first."),
    "sanction.exists": ("Pengaduan ini sudah punya sanksinya.", "This complaint already has its sanction."),
    "sanction.before_received": (
        "Sanksi tidak boleh mulai sebelum pengaduan diterima.",
        "A sanction cannot start before the complaint was received.",
    ),
    # --- accounts and keys -----------------------------------------------------------------------
    "auth.required": ("Anda perlu masuk sebagai staf untuk ini.", "Valid credentials are required."),
    "auth.sign_out_token_only": (
        "Hanya token bearer yang dapat dikeluarkan; cabut kunci API sebagai gantinya.",
        "Only a bearer token can be signed out; revoke API keys instead.",
    ),
    "user.unknown": ("Tidak ada pengguna dengan nama pengguna itu.", "There is no user with that username."),
    "user.username_taken": ("Nama pengguna ini sudah dipakai.", "The username is taken."),
    "user.operator_linked": ("Akun lain sudah terhubung dengan petugas ini.", "Another account is already linked to this operator."),
    "user.area_needed": ("Supervisor memerlukan wilayah (misalnya 36.74.01).", "A supervisor needs an area (e.g. 36.74.01)."),
    "user.area_only_supervisor": ("Hanya supervisor yang dibatasi pada wilayah.", "Only a supervisor is scoped to an area."),
    "user.point_needed": (
        "Operator memerlukan tempat layanan, atau hubungan ke data petugasnya (operator_id).",
        "An operator needs a service point, or a link to the operator (petugas) they are (operator_id).",
    ),
    "user.point_only_operator": ("Hanya operator yang dibatasi pada tempat layanan.", "Only an operator is scoped to a service point."),
    "user.deactivate_self": ("Anda tidak dapat menonaktifkan akun Anda sendiri.", "You cannot deactivate your own account."),
    "user.keys_heir": ("Kunci API hanya dapat diserahkan kepada admin aktif yang lain.", "API keys can be handed only to another active admin."),
    "key.owner_inactive": ("Pemilik harus akun yang aktif.", "The owner must be an active account."),
    "key.owner_role": ("Pemilik kunci adalah admin, atau memegang peran kunci itu.", "A key's owner is an admin, or has the key's role."),
    "key.owner_missing": ("Sebutkan pemilik kunci (nama pengguna akun aktif).", "Name the key's owner (an active account's username)."),
    # --- messages and webhooks -------------------------------------------------------------------
    "phone.not_a_number": ("Bukan nomor telepon.", "Not a phone number."),
    "phone.form": ("Tulis nomornya sebagai 08... atau +628....", "Write the number as 08... or +628...."),
    "phone.not_mobile": ("Bukan nomor HP Indonesia (08...).", "Not an Indonesian mobile number (08...)."),
    "contact.consent": ("Pesan hanya dikirim dengan persetujuan warga.", "Messages are sent only with the resident's consent."),
    "contact.webpush_phone": ("Langganan Web Push tidak didaftarkan dengan nomor telepon.", "Web Push subscriptions are not registered with a phone number."),
    "contact.erased": ("Permintaan ini sudah ditutup; kontaknya sudah dihapus.", "This request is closed; its contact was erased."),
    "webhook.not_url": ("Bukan URL.", "Not a URL."),
    "webhook.https": ("URL harus diawali https://.", "The URL must start with https://."),
    "webhook.no_host": ("URL harus menyebut host.", "The URL must name a host."),
    "webhook.credentials": ("URL tidak boleh memuat nama pengguna atau kata sandi.", "The URL may not carry a user name or password."),
    "webhook.fragment": ("URL tidak boleh memuat #fragmen.", "The URL may not have a #fragment."),
    "webhook.unresolved": ("Host {host} tidak dapat ditemukan.", "The host {host} does not resolve."),
    "webhook.not_public": (
        "Host {host} mengarah ke alamat yang tidak publik ({address}).",
        "The host {host} resolves to an address that is not public ({address}).",
    ),
    "webhook.disabled": ("Langganan ini dinonaktifkan; aktifkan dulu.", "The subscription is disabled; enable it first."),
    "webhook.sending": ("Pengiriman ini sedang berlangsung.", "The delivery is being sent right now."),
    # --- signing in ------------------------------------------------------------------------------
    "auth.wrong_credentials": (
        "Nama pengguna atau kata sandi salah, atau akun dinonaktifkan.",
        "Wrong username or password, or the account is deactivated.",
    ),
    "auth.too_many_failures": (
        "Terlalu banyak percobaan masuk yang gagal; coba lagi dalam {seconds} detik.",
        "Too many failed sign-ins; try again in {seconds} seconds.",
    ),
    "auth.token_invalid": ("Token tidak valid.", "The token is not valid."),
    "auth.token_expired": ("Token sudah kedaluwarsa atau dicabut; silakan masuk lagi.", "The token has expired or was revoked; sign in again."),
    "auth.account_inactive": ("Akun ini dinonaktifkan.", "The account is deactivated."),
    "auth.bearer_expected": ("Gunakan 'Authorization: Bearer <token>'.", "Use 'Authorization: Bearer <token>'."),
    "auth.key_invalid": ("Kunci API tidak valid atau sudah dicabut.", "The API key is not valid or was revoked."),
    "auth.key_expired": ("Kunci API sudah kedaluwarsa; mintalah yang baru kepada admin.", "The API key has expired; ask an admin for a new one."),
    "auth.key_owner_inactive": ("Pemilik kunci API ini dinonaktifkan.", "The API key's owner is deactivated."),
    "auth.key_owner_role": ("Pemilik kunci API ini tidak lagi memegang perannya.", "The API key's owner no longer has its role."),
    "auth.role": ("Peran {role} tidak boleh melakukan ini.", "The {role} role may not do this."),
}


# The command line's own lines (`rekam users ...`): not API codes, so not in the SPA's catalogues.
CLI: dict[str, tuple[str, str]] = {
    "user.created": ("rekam: pengguna {username} dibuat ({role}{scope}{linked})", "rekam: user {username} created ({role}{scope}{linked})"),
    "user.scope_area": (" wilayah {area}", " of {area}"),
    "user.scope_point": (" di tempat layanan {point}", " at service point {point}"),
    "user.linked": (", adalah petugas {operator}", ", is operator {operator}"),
    "user.active": ("aktif", "active"),
    "user.inactive": ("nonaktif", "deactivated"),
    "user.point": ("tempat {point}", "point {point}"),
    "user.deactivated": (
        "rekam: pengguna {username} dinonaktifkan; sesinya diakhiri dan {keys}",
        "rekam: user {username} deactivated; their sessions are ended and {keys}",
    ),
    "user.keys_transferred": ("kunci API-nya kini milik {heir}", "their API keys now belong to {heir}"),
    "user.keys_revoked": ("kunci API-nya dicabut", "their API keys are revoked"),
}


def say(key: str, lang: str, **params: Any) -> str:
    """A line of the command line in `lang` (`language_of_environment()`)."""
    return render(key, params, lang, catalogue=CLI)
