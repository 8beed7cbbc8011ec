def _areas_by_code_200(body: str) -> float:
    """The counter of answered GET /api/v1/areas/{code} with 200 (0 before the first one)."""
    lines = [line for line in body.splitlines() if line.startswith("rekam_http_requests_total") and 'route="/api/v1/areas/{code}"' in line and 'status="200"' in line and 'method="GET"' in line]
    return float(lines[0].rsplit(" ", 1)[1]) if lines else 0.0


async def test_metrics_count_requests_by_route_template(client) -> None:
    # The counter is process-wide: other tests (in any order) add to it, so count the difference.
    before = _areas_by_code_200((await client.get("/metrics")).text)
    assert (await client.get("/api/v1/areas/36.74.01")).status_code == 200
    assert (await client.get("/api/v1/areas/36.74.02")).status_code == 200
    body = (await client.get("/metrics")).text
    assert _areas_by_code_200(body) - before == 2
    assert "36.74.01" not in body
