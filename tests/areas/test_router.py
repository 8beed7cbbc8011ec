from api.types import Role
from tests.factories import assert_problem, headers_for


async def test_list_areas_by_parent_paginates(client) -> None:
    first = await client.get("/api/v1/areas", params={"parent": "36.74", "limit": 4})
    assert first.status_code == 200
    body = first.json()
    assert [a["code"] for a in body["items"]] == ["36.74.01", "36.74.02", "36.74.03", "36.74.04"]
    second = await client.get("/api/v1/areas", params={"parent": "36.74", "limit": 4, "cursor": body["next_cursor"]})
    assert [a["code"] for a in second.json()["items"]] == ["36.74.05", "36.74.06", "36.74.07"]
    assert second.json()["next_cursor"] is None


async def test_search_by_name_and_level(client) -> None:
    response = await client.get("/api/v1/areas", params={"q": "pondok", "level": "kelurahan", "area": "36.74"})
    names = [a["name"] for a in response.json()["items"]]
    assert names and all("pondok" in n.lower() for n in names)


async def test_get_area_with_ancestors_and_children(client) -> None:
    response = await client.get("/api/v1/areas/36.74.01.1001")
    assert response.status_code == 200
    assert [a["code"] for a in response.json()["ancestors"]] == ["0", "36", "36.74", "36.74.01"]
    children = await client.get("/api/v1/areas/36.74.01/children")
    assert len(children.json()["items"]) == 9


async def test_unknown_and_malformed_codes(client) -> None:
    assert_problem(await client.get("/api/v1/areas/36.74.99"), 404)
    assert_problem(await client.get("/api/v1/areas/not-a-code"), 422, field="code")
    assert_problem(await client.get("/api/v1/areas", params={"cursor": "garbage"}), 422, field="cursor")
    assert_problem(await client.get("/api/v1/areas", params={"limit": 0}), 422, field="limit")


async def test_staff_add_rw_and_rt(client, session) -> None:
    headers = await headers_for(session, role=Role.supervisor, area="36.74.01")
    rw = await client.post("/api/v1/areas", json={"code": "36.74.01.1001.007", "population": 1200}, headers=headers)
    assert rw.status_code == 201, rw.text
    assert rw.json()["level"] == "rw"
    rt = await client.post("/api/v1/areas", json={"code": "36.74.01.1001.007.002"}, headers=headers)
    assert rt.status_code == 201
    assert_problem(await client.post("/api/v1/areas", json={"code": "36.74.01.1001.008.001"}, headers=headers), 404, field="code")
    assert_problem(await client.post("/api/v1/areas", json={"code": "36.74.01.1001.7"}, headers=headers), 422, field="code")
    assert_problem(await client.post("/api/v1/areas", json={"code": "36.74.01.1001"}, headers=headers), 422, field="code")
    assert_problem(await client.post("/api/v1/areas", json={"code": "36.74.01.1001.007"}, headers=headers), 409, field="code")
    assert_problem(await client.post("/api/v1/areas", json={"code": "36.74.07.1001.001"}, headers=headers), 403)
    assert_problem(await client.post("/api/v1/areas", json={"code": 5}, headers=headers), 422, field="code")
    assert_problem(await client.post("/api/v1/areas", json={"code": "36.74.01.1001.009", "extra": 1}, headers=headers), 422)
    assert_problem(await client.post("/api/v1/areas", json={"code": "36.74.01.1001.009"}), 401)
    renamed = await client.patch("/api/v1/areas/36.74.01.1001.007", json={"name": "RW 07 Ciater"}, headers=headers)
    assert renamed.json()["name"] == "RW 07 Ciater"
    assert_problem(await client.patch("/api/v1/areas/36.74.01.1001.007", json={"name": None}, headers=headers), 422, field="name")


async def test_codes_are_ascii_digits_only(client, session) -> None:
    """Issue 17, item 5: `36.74.01.1001.００３` (fullwidth digits) was created next to `.003`, a look-alike twin."""
    headers = await headers_for(session, role=Role.supervisor, area="36.74.01")
    for twin in ("36.74.01.1001.００３", "36.74.01.1001.٠٠٣", "٣٦.74.01.1001.003"):
        assert_problem(await client.post("/api/v1/areas", json={"code": twin}, headers=headers), 422, field="code")
    assert_problem(await client.get("/api/v1/areas", params={"area": "٣٦.74"}), 422)


async def test_official_names_change_only_with_the_official_list(client, session) -> None:
    """Issue 17, item 6: a supervisor renamed the kecamatan Serpong to a spreadsheet formula."""
    formula = "@SUM(1+1)*cmd|' /C calc'!A0"
    for role, area in ((Role.supervisor, "36.74.01"), (Role.admin, None)):
        headers = await headers_for(session, role=role, area=area)
        for code in ("36.74.01", "36.74.01.1001"):
            assert_problem(await client.patch(f"/api/v1/areas/{code}", json={"name": formula}, headers=headers), 422, field="name")
    assert (await client.get("/api/v1/areas/36.74.01")).json()["name"] != formula
    population = await client.patch("/api/v1/areas/36.74.01.1001", json={"population": 30_000}, headers=headers)
    assert population.status_code == 200, population.text
