import re

from sqlalchemy import func, select

from api.auth import demo
from api.auth.models import User
from api.services.models import ServicePoint
from api.types import Role


async def test_demo_staff_one_per_role_passwords_once(client, session) -> None:
    lines = await demo.load(session)
    passwords = dict(re.findall(r"^user (\S+) .*: password (\S+)", "\n".join(lines), re.MULTILINE))
    assert set(passwords) == {"admin", "viewer", "handler", "serpong.supervisor", "serpong.operator"}
    users = {u.username: u for u in (await session.scalars(select(User).where(User.username.in_(passwords)))).all()}
    assert {Role(u.role) for u in users.values()} == set(Role)
    office = await session.scalar(select(ServicePoint).where(ServicePoint.name == demo.SERPONG_OFFICE))
    assert office.area_code == "36.74.01" and office.kind == "kecamatan_office" and office.opening_hours["sun"]
    assert users["serpong.supervisor"].scope_area_code == "36.74.01"
    assert users["serpong.operator"].scope_service_point_id == office.id
    await session.commit()
    response = await client.post("/api/v1/auth/token", data={"username": "serpong.supervisor", "password": passwords["serpong.supervisor"]})
    assert response.status_code == 200
    # Again: nothing new, and no password is printed.
    again = await demo.load(session)
    assert len(again) == 5 and not any("password " in line and "unchanged" not in line for line in again)
    assert await session.scalar(select(func.count()).select_from(ServicePoint).where(ServicePoint.name == demo.SERPONG_OFFICE)) == 1
