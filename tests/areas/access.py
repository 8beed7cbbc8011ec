from tests.access import Request, area_writer, public_read

KELURAHAN = "36.74.01.1001"  # Ciater, Serpong


async def new_rw(_session) -> Request:
    return Request(json={"code": f"{KELURAHAN}.003", "name": "RW 003"}, area="36.74.01")


async def kelurahan(_session) -> Request:
    return Request(path_params={"code": KELURAHAN}, json={"population": 25_000}, area="36.74.01")


async def setu_kelurahan(_session) -> Request:
    return Request(path_params={"code": "36.74.07.1001"}, json={"population": 12_000}, area="36.74.07")


async def serpong(_session) -> Request:
    return Request(path_params={"code": "36.74.01"})


CASES = [
    public_read("GET", "/api/v1/areas"),
    public_read("GET", "/api/v1/areas/{code}", serpong),
    public_read("GET", "/api/v1/areas/{code}/children", serpong),
    area_writer("POST", "/api/v1/areas", 201, new_rw, note="RW in Serpong"),
    area_writer("PATCH", "/api/v1/areas/{code}", 200, kelurahan, note="Serpong kelurahan"),
    area_writer("PATCH", "/api/v1/areas/{code}", 200, setu_kelurahan, note="Setu kelurahan"),
]
