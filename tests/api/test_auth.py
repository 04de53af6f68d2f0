"""Staff accounts: argon2 hashes, opaque hashed session tokens that expire, the same 401 for an
unknown email and a wrong password, the admin role, agency scoping, and `create-staff`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from app import cli
from app.core.db import get_session
from app.core.security import AdminStaff, AgencyScope, Caller, scope_to_agency, token_digest
from app.models import Agency, StaffSession, StaffUser
from app.services.auth import create_staff
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

PASSWORD = "correct horse battery"
LOGIN = "/api/v1/auth/login"
ME = "/api/v1/auth/me"


@pytest.fixture
def agencies(session_factory: sessionmaker[Session]) -> Iterator[None]:
    with session_factory() as session:
        for agency_id in ("t-auth-a", "t-auth-b"):
            session.add(Agency(id=agency_id, name=agency_id, region="Fès-Meknès", province="Fès", city="Fès",
                               opening_hours={}, advisers=1, slot_minutes=30, active=True))
        session.commit()
    yield
    with session_factory() as session:
        session.execute(delete(StaffSession))
        session.execute(delete(StaffUser))
        session.execute(delete(Agency).where(Agency.id.in_(("t-auth-a", "t-auth-b"))))
        session.commit()


@pytest.fixture
def agent(session: Session, agencies: None) -> StaffUser:
    return create_staff(session=session, email="Nadia@ANAPEC.test", full_name="Nadia", role="staff",
                        agency_id="t-auth-a", password=PASSWORD)


def login(client: TestClient, email: str = "nadia@anapec.test", password: str = PASSWORD) -> str:
    response = client.post(LOGIN, json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


def test_login_me_logout(client: TestClient, agent: StaffUser, session: Session) -> None:
    response = client.post(LOGIN, json={"email": " NADIA@anapec.test ", "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["staff"] == {"id": agent.id, "email": "nadia@anapec.test", "full_name": "Nadia", "role": "staff",
                             "agency_id": "t-auth-a", "language": "fr"}
    token = body["token"]
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
    # Only a hash of the token is stored, and only an argon2 hash of the password.
    assert session.get(StaffSession, token_digest(token)) is not None
    assert session.scalar(select(StaffSession).where(StaffSession.token_hash == token)) is None
    assert agent.password_hash.startswith("$argon2id$") and PASSWORD not in agent.password_hash

    client.cookies.clear()
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get(ME, headers=bearer).json()["email"] == "nadia@anapec.test"
    client.cookies.set("ge_staff_session", token)
    assert client.get(ME).status_code == 200  # the dashboard's cookie works too
    client.cookies.clear()
    assert client.post("/api/v1/auth/logout", headers=bearer).status_code == 204
    assert client.get(ME, headers=bearer).status_code == 401


def test_unknown_email_and_wrong_password_look_the_same(client: TestClient, agent: StaffUser) -> None:
    wrong = client.post(LOGIN, json={"email": "nadia@anapec.test", "password": "wrong password!"})
    unknown = client.post(LOGIN, json={"email": "nobody@anapec.test", "password": PASSWORD})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json() == {"detail": "wrong email or password"}


def test_sessions_expire_and_inactive_staff_are_out(client: TestClient, agent: StaffUser, session: Session) -> None:
    token = login(client)
    client.cookies.clear()
    bearer = {"Authorization": f"Bearer {token}"}
    row = session.get(StaffSession, token_digest(token))
    assert row is not None
    expires_at = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
    assert timedelta(minutes=479) < expires_at - datetime.now(UTC) <= timedelta(minutes=480)
    row.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    session.commit()
    assert client.get(ME, headers=bearer).status_code == 401

    token = login(client)
    client.cookies.clear()
    agent.active = False
    session.merge(agent)
    session.commit()
    assert client.get(ME, headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert client.post(LOGIN, json={"email": "nadia@anapec.test", "password": PASSWORD}).status_code == 401


def test_no_or_bad_token_is_401(client: TestClient) -> None:
    assert client.get(ME).status_code == 401
    assert client.get(ME, headers={"Authorization": "Bearer forged"}).status_code == 401
    # The service token is not a staff login.
    assert client.get(ME, headers={"Authorization": "Bearer dev-service-token"}).status_code == 401


def test_admin_role_and_agency_scope_dependencies(session_factory: sessionmaker[Session], session: Session,
                                                  agent: StaffUser) -> None:
    create_staff(session=session, email="admin@anapec.test", full_name="Admin", role="admin", agency_id=None,
                 password=PASSWORD)
    router = APIRouter()

    @router.get("/admin-only")
    def admin_only(staff: AdminStaff) -> dict[str, str]:
        return {"email": staff.email}

    @router.get("/scope")
    def scope(agency_id: AgencyScope) -> dict[str, str | None]:
        return {"agency_id": agency_id}

    app = FastAPI()
    app.include_router(router)
    from app.routers import auth

    app.include_router(auth.router, prefix="/api/v1")

    def _session() -> Iterator[Session]:
        with session_factory() as s:
            yield s

    app.dependency_overrides[get_session] = _session
    with TestClient(app) as client:
        staff = {"Authorization": f"Bearer {login(client)}"}
        admin = {"Authorization": f"Bearer {login(client, 'admin@anapec.test')}"}
        client.cookies.clear()
        assert client.get("/admin-only", headers=staff).status_code == 403
        assert client.get("/admin-only", headers=admin).json() == {"email": "admin@anapec.test"}
        assert client.get("/scope", headers=staff).json() == {"agency_id": "t-auth-a"}
        assert client.get("/scope", headers=admin).json() == {"agency_id": None}


def test_scope_to_agency_filters_queries(session: Session, agent: StaffUser) -> None:
    stmt = select(Agency.id).where(Agency.id.in_(("t-auth-a", "t-auth-b"))).order_by(Agency.id)
    assert session.scalars(scope_to_agency(stmt, staff=agent, column=Agency.id)).all() == ["t-auth-a"]
    assert session.scalars(scope_to_agency(stmt, staff=None, column=Agency.id)).all() == ["t-auth-a", "t-auth-b"]
    orphan = StaffUser(email="x@y.z", full_name="x", password_hash="x", role="staff", agency_id=None)
    assert session.scalars(scope_to_agency(stmt, staff=orphan, column=Agency.id)).all() == []
    assert Caller(staff=None).is_service


@pytest.mark.parametrize(("role", "agency", "password", "reason"), [
    ("staff", None, PASSWORD, "bound to one agency"), ("staff", "atlantis", PASSWORD, "unknown agency"),
    ("staff", "t-auth-a", "short", "12 characters"), ("boss", "t-auth-a", PASSWORD, "role"),
])
def test_create_staff_refuses_bad_accounts(session: Session, agencies: None, role: str, agency: str | None,
                                           password: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        create_staff(session=session, email="new@anapec.test", full_name="New", role=role, agency_id=agency,
                     password=password)


def test_cli_create_staff_reads_the_password_from_env_or_prompt(
        session_factory: sessionmaker[Session], agencies: None, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], client: TestClient) -> None:
    monkeypatch.setattr(cli, "get_sessionmaker", lambda: session_factory)

    def command(email: str, *extra: str) -> list[str]:
        return ["create-staff", "--email", email, "--name", "Omar", "--agency", "t-auth-b", "--role", "staff", *extra]

    def prompt_answers(*answers: str) -> None:
        replies = iter(answers)
        monkeypatch.setattr("getpass.getpass", lambda prompt="": next(replies))

    assert cli.main(command("omar@anapec.test", "--password-env", "GE_TEST_PW")) == 2  # unset: no default
    monkeypatch.setenv("GE_TEST_PW", PASSWORD)
    assert cli.main(command("omar@anapec.test", "--password-env", "GE_TEST_PW")) == 0
    assert "created staff omar@anapec.test (agency: t-auth-b)" in capsys.readouterr().out
    assert login(client, "omar@anapec.test")

    prompt_answers(PASSWORD, PASSWORD)
    assert cli.main(command("sara@anapec.test")) == 0
    assert login(client, "sara@anapec.test")
    prompt_answers(PASSWORD, "something else!")
    assert cli.main(command("ali@anapec.test")) == 2
    assert "differ" in capsys.readouterr().err
    assert cli.main(command("omar@anapec.test", "--password-env", "GE_TEST_PW")) == 2
    assert "already exists" in capsys.readouterr().err
