"""`rekam tallies post FILE`: the script users' tool for sending a tally file to Rekam.

A big file goes in chunks of `chunk_rows` rows, each with its own idempotency key (the file's
hash and the chunk's number), so re-running after a failure never counts a chunk twice. Network
errors and 503s are retried with exponential backoff. Row numbers in the printed summary are the
file's own (header = row 1). With `--mode replace` the file goes as one request: a replace that
spans chunks would delete what an earlier chunk just sent.
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

COUNTS = ("imported", "updated", "unchanged", "deleted", "rejected")
RETRIES = 5


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


def _send(client: httpx.Client, url: str, body: bytes, headers: dict[str, str], params: dict[str, str], err: TextIO) -> httpx.Response:
    delay = 0.5
    for attempt in range(RETRIES + 1):
        try:
            response = client.post(url, content=body, headers=headers, params=params)
            if response.status_code != 503 or attempt == RETRIES:
                return response
            reason = "server busy (503)"
        except httpx.TransportError as exc:
            if attempt == RETRIES:
                raise
            reason = type(exc).__name__
        err.write(f"\nrekam: {reason}; retrying in {delay:.1f}s\n")
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
) -> int:
    """Send the file; print the summary; 0 when no row was rejected, 1 when some were, 2 on failure."""
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
    base_headers = {"X-API-Key": api_key, "content-type": "application/json" if is_json else "text/csv"}
    totals = dict.fromkeys(COUNTS, 0)
    problems: dict[str, dict[tuple[Any, ...], list[int]]] = {"conflicts": {}, "warnings": {}}
    sent = 0
    own_client = client is None
    client = client or httpx.Client(timeout=httpx.Timeout(600, connect=10))
    try:
        for number, (first_row, rows, body) in enumerate(chunks, start=1):
            headers = {**base_headers, "Idempotency-Key": f"{digest[:40]}-{chunk_rows}-{number}"}
            response = _send(client, endpoint, body, headers, params, err)
            payload = response.json() if response.content else {}
            summary = payload.get("summary", payload) if response.status_code in (200, 422) else None
            if summary is None or "imported" not in summary:
                err.write(f"\nrekam: chunk {number} failed with HTTP {response.status_code}: {payload.get('detail', response.text[:200])}\n")
                return 2
            for name in COUNTS:
                totals[name] += summary[name]
            # The server numbers rows within the chunk (its header is row 1).
            for kind in problems:
                for item in summary[kind]:
                    key = (item["field"], item["code"], item["message"])
                    problems[kind].setdefault(key, []).extend(first_row + row - 2 for row in item["rows"])
            sent += rows
            _progress(err, sent, total_rows, number)
    finally:
        if own_client:
            client.close()
    err.write("\n")
    status = "error" if totals["rejected"] else "warning" if problems["warnings"] else "ok"
    out.write(f"status: {status}\n" + "".join(f"{name}: {totals[name]}\n" for name in COUNTS))
    for kind, groups in problems.items():
        for (field, code, message), rows_ in groups.items():
            shown = ", ".join(map(str, rows_[:20])) + (" ..." if len(rows_) > 20 else "")
            out.write(f"{kind[:-1]}: {code} ({field}): {message}" + (f"; rows {shown}" if rows_ else "") + "\n")
    return 1 if totals["rejected"] else 0


def _progress(err: TextIO, sent: int, total: int | None, chunk: int) -> None:
    if total:
        filled = int(30 * min(sent / total, 1))
        err.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {sent:,}/{total:,} rows, {chunk} chunk(s)")
    else:
        err.write(f"\r{sent:,} rows, {chunk} chunk(s)")
    err.flush()
