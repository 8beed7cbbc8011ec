"""`rekam tallies post FILE`: the script users' tool for sending a tally file to Rekam.

A big file goes in chunks of `chunk_rows` rows, each with its own idempotency key (the file's
hash, how it is sent (mode, atomic, dry run or not) and the chunk's number), so re-running after a
failure never counts a chunk twice, and a dry run followed by the real post of the same file are
two requests. A chunk the server had already applied is answered from its record and counted
as "unchanged" (nothing happened this time). Network errors and 503s are retried with
exponential backoff; a server that cannot be reached at all ends the command with one line and
exit status 2. Row numbers in the printed summary are the file's own (header = row 1). With
`--mode replace` the file goes as one request: a replace that spans chunks would delete what an
earlier chunk just sent. The summary is in Indonesian when LANG (or LC_ALL, LC_MESSAGES) starts
with "id", in English otherwise.
"""

import csv
import hashlib
import io
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TextIO

import httpx

from api import messages

COUNTS = ("imported", "updated", "unchanged", "deleted", "rejected")
RETRIES = 5
CONNECT_RETRIES = 2  # a server that refuses connections is down: say so soon

MESSAGES = {
    "en": {
        "status": "status",
        "imported": "imported",
        "updated": "updated",
        "unchanged": "unchanged",
        "deleted": "deleted",
        "rejected": "rejected",
        "ok": "ok",
        "warning": "warning",
        "error": "error",
        "conflict": "error",
        "rows": "rows",
        "dry_run": "dry run: nothing was saved; send the same command without --dry-run to save",
        "replayed": "{n} chunk(s) had been sent before: nothing changed for them",
        "unreachable": "rekam: cannot reach {url} ({reason}); nothing was sent",
        "lost": "rekam: lost the connection to {url} ({reason}) at chunk {chunk}; run the same command again: chunks already saved are not counted twice",
        "failed": "rekam: chunk {chunk} failed with HTTP {status}: {detail}",
        "retrying": "rekam: {reason}; retrying in {delay:.1f}s",
        "busy": "server busy (503)",
        "chunks": "{sent}/{total} rows, {chunk} chunk(s)",
        "chunks_plain": "{sent} rows, {chunk} chunk(s)",
    },
    "id": {
        "status": "status",
        "imported": "baru",
        "updated": "diubah",
        "unchanged": "tidak berubah",
        "deleted": "dihapus",
        "rejected": "ditolak",
        "ok": "baik",
        "warning": "peringatan",
        "error": "galat",
        "conflict": "galat",
        "rows": "baris",
        "dry_run": "uji coba: tidak ada yang disimpan; jalankan perintah yang sama tanpa --dry-run untuk menyimpan",
        "replayed": "{n} bagian sudah pernah dikirim: tidak ada yang berubah",
        "unreachable": "rekam: server {url} tidak dapat dihubungi ({reason}); tidak ada yang dikirim",
        "lost": "rekam: sambungan ke {url} terputus ({reason}) pada bagian {chunk}; jalankan perintah yang sama lagi: bagian yang sudah tersimpan tidak dihitung dua kali",
        "failed": "rekam: bagian {chunk} gagal dengan HTTP {status}: {detail}",
        "retrying": "rekam: {reason}; mencoba lagi dalam {delay:.1f} dtk",
        "busy": "server sibuk (503)",
        "chunks": "{sent}/{total} baris, {chunk} bagian",
        "chunks_plain": "{sent} baris, {chunk} bagian",
    },
}


language = messages.language_of_environment  # "id" when the locale asks for Indonesian, "en" otherwise


class Unreachable(Exception):
    """The server could not be reached (after retries)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def csv_chunks(path: Path, chunk_rows: int) -> Iterator[tuple[int, int, bytes]]:
    """(first row number, rows, body) per chunk; every chunk repeats the header."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        first_line = handle.readline()
        handle.seek(0)
        if first_line.startswith("\ufeff"):
            handle.read(1)
        delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
        reader = csv.reader(handle, delimiter=delimiter)
        header = next(reader, None)
        if header is None:
            return
        row, batch, first = 1, [], 2
        for record in reader:
            row += 1
            batch.append(record)
            if len(batch) >= chunk_rows:
                yield first, len(batch), _csv_body(header, batch)
                batch, first = [], row + 1
        if batch:
            yield first, len(batch), _csv_body(header, batch)


def _csv_body(header: list[str], records: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(records)
    return out.getvalue().encode()


def json_chunks(path: Path, chunk_rows: int) -> Iterator[tuple[int, int, bytes]]:
    items = json.loads(path.read_bytes())["tallies"]
    for start in range(0, len(items), chunk_rows):
        part = items[start : start + chunk_rows]
        yield start + 1, len(part), json.dumps({"tallies": part}).encode()


def _reason(exc: httpx.TransportError) -> str:
    text = str(exc).strip().splitlines()[-1] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _send(client: httpx.Client, url: str, body: bytes, headers: dict[str, str], params: dict[str, str], err: TextIO, say: dict[str, str]) -> httpx.Response:
    delay = 0.5
    connect_failures = 0
    for attempt in range(RETRIES + 1):
        try:
            response = client.post(url, content=body, headers=headers, params=params)
            if response.status_code != 503 or attempt == RETRIES:
                return response
            reason = say["busy"]
        except httpx.TransportError as exc:
            connect_failures += isinstance(exc, httpx.ConnectError)
            if attempt == RETRIES or connect_failures > CONNECT_RETRIES:
                raise Unreachable(_reason(exc)) from None
            reason = type(exc).__name__
        err.write("\n" + say["retrying"].format(reason=reason, delay=delay) + "\n")
        time.sleep(delay)
        delay = min(delay * 2, 30)
    raise AssertionError("unreachable")


def post_file(
    path: Path,
    *,
    campaign_id: int,
    url: str,
    api_key: str,
    chunk_rows: int = 50_000,
    mode: str = "upsert",
    atomic: bool = True,
    dry_run: bool = False,
    client: httpx.Client | None = None,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
    lang: str | None = None,
) -> int:
    """Send the file; print the summary; 0 when no row was rejected, 1 when some were, 2 on failure
    (the server unreachable, a chunk refused)."""
    lang = lang or language()
    say = MESSAGES[lang]
    is_json = path.suffix.lower() == ".json"
    if mode == "replace":
        chunk_rows = sys.maxsize
    digest = file_hash(path)
    total_rows = None
    if not is_json:
        with path.open("rb") as handle:
            total_rows = sum(1 for _ in handle) - 1  # lines, a good enough measure for the bar
    chunks = (json_chunks if is_json else csv_chunks)(path, chunk_rows)
    endpoint = url.rstrip("/") + f"/api/v1/campaigns/{campaign_id}/tallies"
    params = {"mode": mode, "atomic": str(atomic).lower(), "dry_run": str(dry_run).lower()}
    base_headers = {"X-API-Key": api_key, "content-type": "application/json" if is_json else "text/csv", "Accept-Language": lang}
    how = f"{mode[0]}{'a' if atomic else 'p'}{'d' if dry_run else 'w'}"  # a dry run and the real post are different requests
    totals = dict.fromkeys(COUNTS, 0)
    problems: dict[str, dict[tuple[Any, ...], list[int]]] = {"conflicts": {}, "warnings": {}}
    sent = replayed = 0
    own_client = client is None
    client = client or httpx.Client(timeout=httpx.Timeout(600, connect=10))
    try:
        for number, (first_row, rows, body) in enumerate(chunks, start=1):
            headers = {**base_headers, "Idempotency-Key": f"{digest[:40]}-{how}-{chunk_rows}-{number}"}
            try:
                response = _send(client, endpoint, body, headers, params, err, say)
            except Unreachable as exc:
                err.write("\n" + say["unreachable" if number == 1 else "lost"].format(url=url, reason=exc.reason, chunk=number) + "\n")
                return 2
            try:
                payload = response.json() if response.content else {}
            except ValueError:
                payload = {}
            if not isinstance(payload, dict):
                payload = {}
            summary = payload.get("summary", payload) if response.status_code in (200, 422) else None
            if summary is None or "imported" not in summary:
                detail = payload.get("detail") or response.text[:200].strip() or response.reason_phrase
                err.write("\n" + say["failed"].format(chunk=number, status=response.status_code, detail=detail) + "\n")
                return 2
            if response.headers.get("Idempotent-Replayed") == "true":  # applied by an earlier run: nothing happened now
                replayed += 1
                totals["unchanged"] += summary["rows"] - summary["rejected"]
                totals["rejected"] += summary["rejected"]
            else:
                for name in COUNTS:
                    totals[name] += summary[name]
            # The server numbers rows within the chunk (its header is row 1).
            for kind in problems:
                for item in summary[kind]:
                    # Worded here, in the environment's language, from the code and its params.
                    words = messages.render(f"import.{item['code']}", item.get("params"), lang) if messages.known(f"import.{item['code']}") else item["message"]
                    key = (item["field"], item["code"], words)
                    problems[kind].setdefault(key, []).extend(first_row + row - 2 for row in item["rows"])
            sent += rows
            _progress(err, sent, total_rows, number, say, lang)
    finally:
        if own_client:
            client.close()
    err.write("\n")
    status = "error" if totals["rejected"] else "warning" if problems["warnings"] else "ok"
    out.write(f"{say['status']}: {say[status]}\n" + "".join(f"{say[name]}: {totals[name]}\n" for name in COUNTS))
    if dry_run:
        out.write(say["dry_run"] + "\n")
    if replayed:
        out.write(say["replayed"].format(n=replayed) + "\n")
    for kind, groups in problems.items():
        for (field, code, message), rows_ in groups.items():
            shown = ", ".join(map(str, rows_[:20])) + (" ..." if len(rows_) > 20 else "")
            out.write(f"{say[kind[:-1]]}: {code} ({field}): {message}" + (f"; {say['rows']} {shown}" if rows_ else "") + "\n")
    return 1 if totals["rejected"] else 0


def _progress(err: TextIO, sent: int, total: int | None, chunk: int, say: dict[str, str], lang: str = "en") -> None:
    # Thousands as the reader writes them: 1.234.567 in Indonesian, 1,234,567 in English.
    def number(n: int) -> str:
        return messages.format_value(n, lang) if lang == "id" else f"{n:,}"

    if total:
        filled = int(30 * min(sent / total, 1))
        err.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] " + say["chunks"].format(sent=number(sent), total=number(total), chunk=chunk))
    else:
        err.write("\r" + say["chunks_plain"].format(sent=number(sent), chunk=chunk))
    err.flush()
