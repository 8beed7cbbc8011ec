"""Staff accounts, bearer tokens and API keys: the rules of signing in.

- Passwords are hashed with argon2 (pwdlib), at least 10 characters, never logged or returned.
  A sign-in with an unknown username costs the same time as a wrong password.
- Tokens and API keys are long random secrets with a recognisable prefix (`rkt_`, `rkk_`); only
  their SHA-256 is stored, the secret is shown once.
- Tokens expire after REKAM_TOKEN_TTL_MINUTES, are revoked by signing out, and stop working when
  the account is deactivated or its password changed (all its tokens are revoked then).
- Failed sign-ins are counted per username (REKAM_LOGIN_FAILURE_LIMIT) and per client address
  (REKAM_LOGIN_FAILURE_LIMIT_PER_CLIENT); past either limit, sign-ins are refused (429 with
  Retry-After) until the window ends. A successful sign-in clears its username's count.
- Every sign-in, failed or refused sign-in, sign-out and account or key change is audited; the
  entries of failed and refused sign-ins are kept although the response is an error.
- A supervisor is scoped to an area, an operator to a service point; other roles have no scope.
  An account may be linked to one operator (petugas, `operator_id`), one account per operator:
  an operator account linked so needs no service point (a mobile kit's crew has no counter).
- An admin cannot deactivate their own account (someone must be left to sign in).
- API keys: revoked keys get 401; `last_used_at` is written at most once a minute.
"""

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from pwdlib import PasswordHash
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from api import ratelimit
from api.areas import service as areas
from api.audit import service as audit
from api.auth.models import AccessToken, ApiKey, Role, User
from api.auth.schemas import ApiKeyCreate, UserCreate, UserUpdate
from api.config import get_settings
from api.devices.models import Operator
from api.errors import Conflict, NotFound, RuleViolation, TooManyRequests, Unauthorized, field_problem, get_or_404
from api.middleware import client_var
from api.pagination import PageParams, paginate
from api.principal import ANONYMOUS, Principal
from api.services.models import ServicePoint

TOKEN_PREFIX = "rkt_"
API_KEY_PREFIX = "rkk_"
USER_FIELDS = ["id", "username", "display_name", "role", "scope_area_code", "scope_service_point_id", "operator_id", "active"]
API_KEY_FIELDS = ["id", "name", "prefix", "role", "scope_area_code", "scope_service_point_id", "revoked_at"]
LOGIN_BY_USERNAME = "login-username"
LOGIN_BY_CLIENT = "login-client"
# Longer inputs are refused without hashing: argon2 over megabytes would be a cheap way to load the server.
MAX_PASSWORD_LENGTH = 256

password_hash = PasswordHash.recommended()
# Verifying against this when the username is unknown keeps the timing the same as a wrong password.
_DUMMY_HASH = password_hash.hash("rekam-timing-equaliser")


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes for values stored as UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def _check_scope(session: AsyncSession, *, role: Role, area: str | None, service_point_id: int | None, operator_linked: bool = False) -> None:
    if role == Role.supervisor and not area:
        raise RuleViolation.on_field("area", "A supervisor needs an area (e.g. 36.74.01).")
    if role != Role.supervisor and area is not None:
        raise RuleViolation.on_field("area", "Only a supervisor is scoped to an area.")
    if role == Role.operator and service_point_id is None and not operator_linked:
        raise RuleViolation.on_field("service_point_id", "An operator needs a service point, or a link to the operator (petugas) they are (operator_id).")
    if role != Role.operator and service_point_id is not None:
        raise RuleViolation.on_field("service_point_id", "Only an operator is scoped to a service point.")
    if area is not None:
        await areas.get(session, code=area, location="body")
    if service_point_id is not None and await session.get(ServicePoint, service_point_id) is None:
        raise NotFound(
            f"There is no service point {service_point_id}.",
            errors=[field_problem("service_point_id", "unknown service point")],
        )


async def _check_operator_link(session: AsyncSession, *, operator_id: int, user_id: int | None = None) -> None:
    """The operator exists and no other account is them."""
    if await session.get(Operator, operator_id) is None:
        raise NotFound(
            f"There is no operator {operator_id}.", errors=[field_problem("operator_id", "unknown operator")]
        )
    other = await session.scalar(select(User.id).where(User.operator_id == operator_id, User.id != (user_id or 0)))
    if other is not None:
        raise Conflict(
            "Another account is already linked to this operator.", errors=[field_problem("operator_id", "already linked")]
        )


async def create_user(session: AsyncSession, *, data: UserCreate, actor: Principal) -> User:
    if await session.scalar(select(User.id).where(User.username == data.username)) is not None:
        raise Conflict("The username is taken.", errors=[field_problem("username", "taken")])
    await _check_scope(session, role=data.role, area=data.area, service_point_id=data.service_point_id, operator_linked=data.operator_id is not None)
    if data.operator_id is not None:
        await _check_operator_link(session, operator_id=data.operator_id)
    user = User(
        username=data.username,
        display_name=data.display_name,
        password_hash=password_hash.hash(data.password),
        role=data.role.value,
        scope_area_code=data.area,
        scope_service_point_id=data.service_point_id,
        operator_id=data.operator_id,
        active=True,
    )
    session.add(user)
    await session.flush()
    await audit.record(session, actor=actor, action="user.create", entity="user", entity_id=user.id, after=audit.snapshot_of(user, USER_FIELDS))
    return user


async def get_user(session: AsyncSession, *, user_id: int) -> User:
    return await get_or_404(session, User, user_id, what="user")


async def get_user_by_username(session: AsyncSession, *, username: str) -> User:
    user = await session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound("There is no user with that username.")
    return user


async def update_user(session: AsyncSession, *, user_id: int, data: UserUpdate, actor: Principal) -> User:
    """Change an account; a new password or deactivation revokes all its tokens."""
    user = await get_user(session, user_id=user_id)
    before = audit.snapshot_of(user, USER_FIELDS)
    changes = data.model_dump(exclude_unset=True)
    for name in ("display_name", "password", "active", "role"):
        if name in changes and changes[name] is None:
            raise RuleViolation.on_field(name, f"{name} cannot be null.")
    if changes.get("active") is False and actor.kind == "user" and actor.id == user.id:
        raise RuleViolation.on_field("active", "You cannot deactivate your own account.")
    # Who the account is stays with a new role: it is not a scope.
    operator_id = changes.get("operator_id", user.operator_id)
    if operator_id is not None and operator_id != user.operator_id:
        await _check_operator_link(session, operator_id=operator_id, user_id=user.id)
    if {"role", "area", "service_point_id", "operator_id"} & changes.keys():
        role = Role(changes.get("role", user.role))
        # A new role drops the old scope unless a new one is given with it.
        same_role = role == user.role
        area = changes.get("area", user.scope_area_code if same_role else None)
        point = changes.get("service_point_id", user.scope_service_point_id if same_role else None)
        await _check_scope(session, role=role, area=area, service_point_id=point, operator_linked=operator_id is not None)
        user.role, user.scope_area_code, user.scope_service_point_id = role.value, area, point
        user.operator_id = operator_id
    if "display_name" in changes:
        user.display_name = changes["display_name"]
    if "password" in changes:
        user.password_hash = password_hash.hash(changes["password"])
    if "active" in changes:
        user.active = changes["active"]
    if "password" in changes or changes.get("active") is False:
        await session.execute(
            update(AccessToken).where(AccessToken.user_id == user.id, AccessToken.revoked_at.is_(None)).values(revoked_at=_now())
        )
    await session.flush()
    after = audit.snapshot_of(user, USER_FIELDS)
    if "password" in changes:
        after["password"] = "changed"  # masked on the way in; says that it changed, not to what
    await audit.record(session, actor=actor, action="user.update", entity="user", entity_id=user.id, before=before, after=after)
    return user


async def deactivate_user(session: AsyncSession, *, username: str, actor: Principal) -> User:
    user = await get_user_by_username(session, username=username)
    return await update_user(session, user_id=user.id, data=UserUpdate(active=False), actor=actor)


async def list_users(session: AsyncSession, *, page: PageParams) -> tuple[list[User], str | None]:
    return await paginate(session, select(User), keys=[User.id], page=page)


async def issue_token(session: AsyncSession, *, user: User) -> tuple[str, int]:
    """A new bearer token for `user` and its lifetime in seconds."""
    ttl = timedelta(minutes=get_settings().token_ttl_minutes)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = _now()
    session.add(AccessToken(token_hash=digest(token), user_id=user.id, created_at=now, expires_at=now + ttl))
    await session.flush()
    return token, int(ttl.total_seconds())


async def sign_in(session: AsyncSession, *, username: str, password: str) -> tuple[str, int]:
    """A new bearer token and its lifetime in seconds; 401 for a wrong or inactive account, 429 when throttled."""
    settings = get_settings()
    username = username.strip().lower()
    limits = [
        (LOGIN_BY_USERNAME, username, settings.login_failure_rate),
        (LOGIN_BY_CLIENT, client_var.get() or "unknown", settings.login_failure_rate_per_client),
    ]
    user = await session.scalar(select(User).where(User.username == username))
    waits = [await ratelimit.retry_after(session, bucket=bucket, key=key, limit=limit) for bucket, key, limit in limits]
    wait = max((w for w in waits if w is not None), default=None)
    if wait is not None:
        await audit.record(session, actor=ANONYMOUS, action="auth.login_refused", entity="user", entity_id=user.id if user else None)
        raise TooManyRequests(f"Too many failed sign-ins; try again in {wait} seconds.", retry_after=wait, keep_changes=True)
    if len(password) > MAX_PASSWORD_LENGTH:
        ok = False
    elif user is None:
        password_hash.verify(password, _DUMMY_HASH)
        ok = False
    else:
        ok = password_hash.verify(password, user.password_hash) and user.active
    if not ok or user is None:
        for bucket, key, limit in limits:
            await ratelimit.count(session, bucket=bucket, key=key, limit=limit)
        await audit.record(session, actor=ANONYMOUS, action="auth.login_failed", entity="user", entity_id=user.id if user else None)
        raise Unauthorized("Wrong username or password, or the account is deactivated.", keep_changes=True)
    await ratelimit.reset(session, bucket=LOGIN_BY_USERNAME, key=username)
    token, ttl = await issue_token(session, user=user)
    await audit.record(session, actor=_principal_of_user(user), action="auth.login", entity="user", entity_id=user.id)
    return token, ttl


def _principal_of_user(user: User, token_id: int | None = None) -> Principal:
    return Principal(
        kind="user",
        id=user.id,
        name=user.username,
        role=Role(user.role),
        area=user.scope_area_code,
        service_point_id=user.scope_service_point_id,
        operator_id=user.operator_id,
        token_id=token_id,
    )


async def principal_from_token(session: AsyncSession, *, token: str) -> Principal:
    row = (
        await session.execute(
            select(AccessToken, User).join(User, User.id == AccessToken.user_id).where(AccessToken.token_hash == digest(token))
        )
    ).first()
    if row is None:
        raise Unauthorized("The token is not valid.")
    access, user = row
    if access.revoked_at is not None or _aware(access.expires_at) <= _now():
        raise Unauthorized("The token has expired or was revoked; sign in again.")
    if not user.active:
        raise Unauthorized("The account is deactivated.")
    return _principal_of_user(user, access.id)


async def sign_out(session: AsyncSession, *, principal: Principal) -> None:
    if principal.token_id is None:
        raise RuleViolation("Only a bearer token can be signed out; revoke API keys instead.")
    access = await session.get(AccessToken, principal.token_id)
    if access is not None and access.revoked_at is None:
        access.revoked_at = _now()
        await session.flush()
        await audit.record(session, actor=principal, action="auth.logout", entity="user", entity_id=principal.id)


async def create_api_key(session: AsyncSession, *, data: ApiKeyCreate, actor: Principal) -> tuple[ApiKey, str]:
    await _check_scope(session, role=data.role, area=data.area, service_point_id=data.service_point_id)
    secret = API_KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        name=data.name,
        prefix=secret[:12],
        key_hash=digest(secret),
        role=data.role.value,
        scope_area_code=data.area,
        scope_service_point_id=data.service_point_id,
        created_by_user_id=actor.id if actor.kind == "user" else None,
        created_at=_now(),
    )
    session.add(key)
    await session.flush()
    await audit.record(
        session, actor=actor, action="api_key.create", entity="api_key", entity_id=key.id,
        after=audit.snapshot_of(key, API_KEY_FIELDS),
    )
    return key, secret


async def list_api_keys(session: AsyncSession, *, page: PageParams) -> tuple[list[ApiKey], str | None]:
    return await paginate(session, select(ApiKey), keys=[ApiKey.id], page=page)


async def revoke_api_key(session: AsyncSession, *, key_id: int, actor: Principal) -> ApiKey:
    key = await session.get(ApiKey, key_id)
    if key is None:
        raise NotFound(f"There is no API key {key_id}.")
    if key.revoked_at is None:
        before = audit.snapshot_of(key, API_KEY_FIELDS)
        key.revoked_at = _now()
        await session.flush()
        await audit.record(session, actor=actor, action="api_key.revoke", entity="api_key", entity_id=key.id, before=before, after=audit.snapshot_of(key, API_KEY_FIELDS))
    return key


async def principal_from_api_key(session: AsyncSession, *, key: str) -> Principal:
    api_key = await session.scalar(select(ApiKey).where(ApiKey.key_hash == digest(key)))
    if api_key is None or api_key.revoked_at is not None:
        raise Unauthorized("The API key is not valid or was revoked.")
    now = _now()
    # Written at most once a minute so that a busy script does not turn every read into a write.
    if api_key.last_used_at is None or now - _aware(api_key.last_used_at) > timedelta(minutes=1):
        api_key.last_used_at = now
        await session.flush()
    return Principal(
        kind="api_key",
        id=api_key.id,
        name=f"key:{api_key.name}",
        role=Role(api_key.role),
        area=api_key.scope_area_code,
        service_point_id=api_key.scope_service_point_id,
    )
