from api.auth import service
from api.auth.schemas import ApiKeyCreate
from api.principal import SYSTEM
from api.types import Role
from tests.access import CALLERS, Case, Request, admin_only, any_staff, public_read
from tests.factories import PASSWORD, make_user


async def sign_in_form(session) -> Request:
    user = await make_user(session, role=Role.viewer)
    return Request(content=f"username={user.username}&password={PASSWORD}".encode(), headers={"content-type": "application/x-www-form-urlencoded"})


async def a_user(session) -> Request:
    # A viewer, so that no caller's scope decides anything; written directly (no argon2 needed).
    from api.auth.models import User

    user = User(username="matrix.subject", display_name="Subject", password_hash="!", role="viewer", active=True)
    session.add(user)
    await session.flush()
    return Request(path_params={"user_id": user.id}, json={"display_name": "Renamed"})


async def new_user(_session) -> Request:
    return Request(json={"username": "matrix.new", "display_name": "New", "password": "a-long-password", "role": "supervisor", "area": "36.74.01"})


async def new_key(_session) -> Request:
    return Request(json={"name": "tally script", "role": "supervisor", "area": "36.74.01"})


async def expiring(_session) -> Request:
    return Request(params={"expiring_within": "30d"})


async def a_key(session) -> Request:
    owner = await make_user(session, role=Role.admin)
    key, _ = await service.create_api_key(session, data=ApiKeyCreate(name="old script", role=Role.viewer, owner=owner.username), actor=SYSTEM)
    return Request(path_params={"key_id": key.id})


CASES = [
    # Signing in needs no credentials; the caller's own token plays no part.
    Case("POST", "/api/v1/auth/token", expect=dict.fromkeys(CALLERS, 200), setup=sign_in_form),
    any_staff("POST", "/api/v1/auth/logout", 204),
    public_read("GET", "/api/v1/auth/me"),
    admin_only("GET", "/api/v1/users", 200),
    admin_only("POST", "/api/v1/users", 201, new_user),
    admin_only("GET", "/api/v1/users/{user_id}", 200, a_user),
    admin_only("PATCH", "/api/v1/users/{user_id}", 200, a_user),
    admin_only("GET", "/api/v1/api-keys", 200),
    admin_only("GET", "/api/v1/api-keys", 200, expiring, note="expiring_within"),
    admin_only("POST", "/api/v1/api-keys", 201, new_key),
    admin_only("DELETE", "/api/v1/api-keys/{key_id}", 204, a_key),
]
