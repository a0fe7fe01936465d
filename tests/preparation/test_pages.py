"""The data engineer's pages: who may see and act, and hostile input."""

from __future__ import annotations

from hdh.access.states import State
from hdh.audit.models import AuditEvent
from hdh.core.permissions import Role
from hdh.preparation import services
from hdh.preparation.models import ExtractionPlan, PreparationRun
from tests.access.helpers import client_for
from tests.factories.access import researcher, staff


def test_only_data_engineers_reach_preparation(world):
    plan = services.create_plan(permit=world.permit, by=world.engineer)
    urls = [
        "/preparation/",
        f"/preparation/autorisations/{world.permit.pk}/",
        f"/preparation/plans/{plan.pk}/",
    ]
    engineer = client_for(world.engineer)
    for url in urls:
        assert engineer.get(url).status_code == 200, url
    for role in (Role.RESEARCHER, Role.GUICHET_OFFICER, Role.REGULATOR, Role.AUDITOR):
        other = client_for(staff(role))
        for url in urls:
            assert other.get(url).status_code == 403, (role, url)
        assert other.post(f"/preparation/plans/{plan.pk}/approuver").status_code == 403
    assert AuditEvent.objects.filter(action="permission.denied").exists()
    anonymous = client_for(researcher())
    anonymous.logout()
    assert anonymous.get(urls[0]).status_code == 302


def test_an_engineer_on_the_project_team_may_not_prepare_it(world):
    insider = staff(Role.DATA_ENGINEER)
    outsider = world.engineer
    # The engineer is a member of the project (as a permit amended to add them would say).
    members = [
        *world.permit.members,
        {"user_id": insider.pk, "username": insider.username, "role": "member"},
    ]
    from hdh.core.governance import service_writes

    with service_writes():
        world.permit.members = members
        world.permit.save(update_fields=["members"])
    client = client_for(insider)
    assert client.get(f"/preparation/autorisations/{world.permit.pk}/").status_code == 403
    assert client.post(f"/preparation/autorisations/{world.permit.pk}/plans/").status_code == 403
    assert world.permit.reference not in client.get("/preparation/").content.decode()
    assert (
        client_for(outsider).get(f"/preparation/autorisations/{world.permit.pk}/").status_code
        == 200
    )


def test_the_pages_prepare_a_dataset_and_show_its_manifest(world, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    client = client_for(world.engineer)
    response = client.post(f"/preparation/autorisations/{world.permit.pk}/plans/")
    plan = ExtractionPlan.objects.get(permit=world.permit)
    assert response.status_code == 302
    page = client.get(f"/preparation/plans/{plan.pk}/").content.decode()
    assert "ER_PRS_F" in page
    assert "EXE_SOI_DTD" in page
    form = {
        "sex": "2",
        "birth_year_min": "",
        "birth_year_max": "",
        "departments": "",
        "icd10": "",
        "dates": "month",
        "shift_days": "30",
        "potential_override": f"Autorisation {world.permit.reference}, article 2.",
        "period-ER_PRS_F": "EXE_SOI_DTD",
    }
    assert client.post(f"/preparation/plans/{plan.pk}/", form).status_code == 302
    assert client.post(f"/preparation/plans/{plan.pk}/approuver").status_code == 302
    plan.refresh_from_db()
    assert plan.status == "approved"
    response = client.post(f"/preparation/plans/{plan.pk}/executer")
    assert response.status_code == 302
    run = PreparationRun.objects.get(plan=plan)
    if run.status == "pending":  # the test database backend: run it as the worker would
        services.execute_run(run.pk)
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    progress = client.get(f"/preparation/executions/{run.pk}/progression").content.decode()
    assert "data-done" in progress
    manifest = client.get(f"/preparation/jeux/{run.dataset.pk}/").content.decode()
    assert "manifest-verified" in manifest
    assert run.dataset.manifest_sha256 in manifest
    world.application.refresh_from_db()
    assert world.application.state == State.DATA_PREPARATION
    assert client.post(f"/preparation/plans/{plan.pk}/ouvrir-espace").status_code == 302
    world.application.refresh_from_db()
    assert world.application.state == State.WORKSPACE_OPEN


def test_hostile_form_input_is_refused(world):
    client = client_for(world.engineer)
    plan = services.create_plan(permit=world.permit, by=world.engineer)
    before = ExtractionPlan.objects.get(pk=plan.pk).spec
    bad_forms = [
        {"dates": "drop table", "shift_days": "30"},
        {"dates": "shift", "shift_days": "-5"},
        {"dates": "shift", "shift_days": "1e9"},
        {"dates": "exact", "shift_days": "30", "icd10": "E11' OR '1'='1"},
        {"dates": "exact", "shift_days": "30", "departments": "<script>"},
        {"dates": "exact", "shift_days": "30", "period-ER_PRS_F": "BEN_NIR_PSA"},
        {"dates": "exact", "shift_days": "30", "sex": "7"},
        {"dates": "exact", "shift_days": "30", "birth_year_min": "99999999999999999999"},
    ]
    for form in bad_forms:
        response = client.post(f"/preparation/plans/{plan.pk}/", form)
        assert response.status_code in (302, 400), form
        assert ExtractionPlan.objects.get(pk=plan.pk).spec == before, form
    for url in (
        "/preparation/plans/99999999999999999999999/",
        "/preparation/executions/424242/",
        "/preparation/jeux/0/",
        "/preparation/autorisations/424242/",
    ):
        assert client.get(url).status_code == 404, url
    assert client.get(f"/preparation/plans/{plan.pk}/approuver").status_code == 405


def test_access_page_links_to_preparation(world):
    page = client_for(world.engineer).get(world.application.get_absolute_url()).content.decode()
    assert f"/preparation/autorisations/{world.permit.pk}/" in page
