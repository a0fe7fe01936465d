"""Who reads a deposit's report: its depositor, producers of the base's holder
organisation, staff holding the lake permission — nobody else, and nobody but
the depositor and staff when the base names no holder (default deny)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse

from hdh.accounts.models import User
from hdh.audit.models import AuditEvent
from hdh.catalog.models import Base
from hdh.catalog.services.dictionary import import_tableschema
from hdh.core.permissions import Role
from hdh.lake.models import Deposit
from hdh.lake.policies import may_read_report
from hdh.lake.services import ingest
from tests.access.helpers import client_for
from tests.factories.accounts import OrganisationFactory, UserFactory
from tests.factories.catalog import create_test_base
from tests.factories.lake import create_producer
from tests.lake.conftest import lake_folder

pytestmark = pytest.mark.django_db

BAD = "PAT_ID;PAT_SEX;PAT_NAI_ANN;PAT_DPT\nP0000001;5;1950;075\n"


def _deposit(tmp_path: Path, base: Base, by: User) -> Deposit:
    import_tableschema(directory=lake_folder(tmp_path / "schema"), base=base, by=None)
    base.refresh_from_db()
    path = tmp_path / "bad.csv"
    path.write_text(BAD, encoding="utf-8")
    return ingest(base=base, table="PATIENT", files=[path], by=by)


def _staff_producer(**overrides: object) -> User:
    user: User = UserFactory(roles=[Role.DATA_PRODUCER, Role.ADMINISTRATOR], **overrides)
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user


def _readers(deposit: Deposit, people: dict[str, User]) -> set[str]:
    return {name for name, user in people.items() if may_read_report(user, deposit)}


def test_without_a_holder_only_the_depositor_and_staff_read_the_report(tmp_path):
    depositor = create_producer()
    deposit = _deposit(tmp_path, create_test_base(), depositor)
    people = {
        "depositor": depositor,
        "other_producer": create_producer(),
        "producer_of_an_organisation": create_producer(organisation=OrganisationFactory()),
        "staff_producer": _staff_producer(),
        "staff_without_lake_permission": _staff_without_lake_permission(),
        "researcher": UserFactory(roles=[Role.RESEARCHER]),
    }
    assert _readers(deposit, people) == {"depositor", "staff_producer"}
    denied = AuditEvent.objects.filter(
        action="permission.denied", details__permission="lake.deposit"
    )
    assert denied.filter(actor_id=str(people["other_producer"].pk)).exists()


def _staff_without_lake_permission() -> User:
    user: User = UserFactory(roles=[Role.ADMINISTRATOR])
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    return user


def test_with_a_holder_its_producers_read_the_report_and_others_do_not(tmp_path):
    holder = OrganisationFactory()
    depositor = create_producer(organisation=holder)
    deposit = _deposit(tmp_path, create_test_base(holder_organisation=holder), depositor)
    people = {
        "depositor": depositor,
        "colleague": create_producer(organisation=holder),
        "colleague_without_role": UserFactory(organisation=holder),
        "other_organisation": create_producer(organisation=OrganisationFactory()),
        "no_organisation": create_producer(),
        "staff_producer": _staff_producer(),
        "anonymous": _anonymous(),
    }
    assert _readers(deposit, people) == {"depositor", "colleague", "staff_producer"}


def _anonymous() -> User:
    from django.contrib.auth.models import AnonymousUser

    return AnonymousUser()  # type: ignore[return-value]


def test_the_page_and_the_api_apply_the_same_rule(tmp_path):
    depositor = create_producer()
    deposit = _deposit(tmp_path, create_test_base(), depositor)
    page = reverse("lake:deposit_report", kwargs={"reference": deposit.reference})
    api = f"/api/lake/deposits/{deposit.reference}"
    stranger = client_for(create_producer())
    assert stranger.get(page).status_code == 403
    assert stranger.get(api).status_code == 403
    own = client_for(depositor)
    assert own.get(page).status_code == 200
    assert own.get(api).status_code == 200
    staff = client_for(_staff_producer())
    assert staff.get(page).status_code == 200
    assert staff.get(api).status_code == 200


@pytest.mark.parametrize(
    "reference", ["DEP-%00", "../../etc/passwd", "DEP-" + "9" * 500, "' OR 1=1 --"]
)
def test_hostile_references_find_nothing(tmp_path, reference):
    client = client_for(_staff_producer())
    assert client.get(f"/api/lake/deposits/{reference}").status_code in {400, 404}
