async def test_metrics_count_requests_by_route_template(client) -> None:
    await client.get("/api/v1/areas/36.74.01")
    await client.get("/api/v1/areas/36.74.02")
    body = (await client.get("/metrics")).text
    line = next(l for l in body.splitlines() if l.startswith("rekam_http_requests_total") and 'route="/api/v1/areas/{code}"' in l and 'status="200"' in l)
    assert float(line.rsplit(" ", 1)[1]) >= 2
    assert "36.74.01" not in body
