"""The command line: demo data, account creation, API tokens."""
from sqlalchemy import func, select

from core import demo
from core.extensions import db
from core.models import Organisation, OrganisationKind, Role, User, ValidationStatus


def _count(model, *conditions) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*conditions))


def test_demo_data_builds_the_territory_and_is_idempotent(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo-data"])
    assert result.exit_code == 0, result.output
    from reuse.models import Device, Offer

    counts = (_count(Organisation), _count(User), _count(Device), _count(Offer))
    assert counts[2:] == (9, 1)  # Vitry's demo inventory and its open offer of monitors
    assert _count(Organisation, Organisation.kind == OrganisationKind.EPT) == 1
    assert _count(Organisation, Organisation.kind == OrganisationKind.COMMUNE) == 24
    assert _count(Organisation, Organisation.kind == OrganisationKind.SYNDICATE) == 2
    suppliers = db.session.scalars(select(Organisation).where(
        Organisation.kind == OrganisationKind.SUPPLIER,
        Organisation.validation_status == ValidationStatus.VALIDATED)).all()
    assert len(suppliers) >= 6
    assert sum(1 for s in suppliers if s.is_ess and s.locality.value == "territory") >= 3
    assert _count(Organisation, Organisation.kind == OrganisationKind.BENEFICIARY) >= 4
    assert {u.role for u in db.session.scalars(select(User))} == set(Role)

    result = runner.invoke(args=["demo-data"])
    assert result.exit_code == 0
    assert (_count(Organisation), _count(User), _count(Device), _count(Offer)) == counts
    result = runner.invoke(args=["demo-data", "--if-empty"])
    assert "already holds data" in result.output


def test_every_demo_account_in_the_readme_logs_in(app, client):
    from pathlib import Path
    import re

    app.test_cli_runner().invoke(args=["demo-data"])
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert demo.DEMO_PASSWORD in readme
    emails = set(re.findall(r"`([\w.]+@[\w.-]+\.example)`", readme))
    assert emails == set(db.session.scalars(select(User.email)))
    for email in sorted(emails)[:3] + ["admin@gosb.example"]:
        assert client.post("/login", data={"email": email, "password": demo.DEMO_PASSWORD}).status_code == 302
        client.post("/logout")


def test_users_create_and_token(app, client):
    runner = app.test_cli_runner()
    runner.invoke(args=["demo-data"])
    result = runner.invoke(args=["users", "create", "new.dsi@ville.example", "--org", "94041", "--role",
                                 "it_manager", "--name", "Nadia", "--password", "a strong password"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "new.dsi@ville.example"))
    assert user.organisation.insee_code == "94041" and user.role is Role.IT_MANAGER

    result = runner.invoke(args=["users", "token", "new.dsi@ville.example"])
    assert result.exit_code == 0
    clear_token = result.output.strip()
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {clear_token}"})
    assert response.get_json()["email"] == "new.dsi@ville.example"


def test_users_create_explains_a_refusal(app):
    runner = app.test_cli_runner()
    runner.invoke(args=["demo-data"])
    result = runner.invoke(args=["users", "create", "x@y.example", "--org", "94041", "--role", "supplier",
                                 "--password", "a strong password"])
    assert result.exit_code != 0
    assert "supplier" in result.output.lower() or "fournisseur" in result.output.lower()
    result = runner.invoke(args=["users", "create", "x@y.example", "--org", "nowhere", "--role", "supplier",
                                 "--password", "a strong password"])
    assert result.exit_code != 0 and "No single organisation" in result.output
