"""The cohort linkage pages: upload, live status, report; who may see them; hostile uploads."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from hdh.accounts.models import User
from hdh.audit.models import AuditEvent
from hdh.core.governance import service_writes
from hdh.core.permissions import Role
from hdh.preparation import linkages
from hdh.preparation.models import LinkageRun
from tests.access.helpers import client_for
from tests.factories.access import staff
from tests.preparation.linkage_world import leftovers, request

HEADER = b"record_id,first_name,surname,birth_date,sex,postcode\n"


def upload(client: Client, permit_pk: int, data: bytes, name: str = "cohorte.csv", **form):  # type: ignore[no-untyped-def]
    return client.post(
        f"/preparation/autorisations/{permit_pk}/appariements/",
        {
            "cohort": SimpleUploadedFile(name, data, content_type="text/csv"),
            "threshold": "0.9",
            "engine": "duckdb",
            **form,
        },
    )


def test_the_pages_link_a_cohort_and_show_the_report(linkable, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    world = linkable.world
    client = client_for(world.engineer)
    page = client.get(f"/preparation/autorisations/{world.permit.pk}/").content.decode()
    assert 'id="linkage-form"' in page
    assert 'enctype="multipart/form-data"' in page
    response = upload(client, world.permit.pk, linkable.cohort_csv)
    assert response.status_code == 302, response.content.decode()[:2000]
    run = LinkageRun.objects.get(permit=world.permit)
    assert response["Location"] == f"/preparation/appariements/{run.pk}/"
    if run.status == "queued":  # the test database backend: run it as the worker would
        linkages.execute_linkage(run.pk)
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    report = client.get(f"/preparation/appariements/{run.pk}/").content.decode()
    assert 'data-vega-chart="match-weights-chart"' in report
    assert 'id="linkage-expected"' in report
    assert 'id="linkage-weights"' in report
    assert f'<dd id="linked-count">{run.summary["linked"]}</dd>' in report
    assert "Jour et mois inversés" in report
    status = client.get(f"/preparation/appariements/{run.pk}/statut").content.decode()
    assert "data-done" in status
    assert 'id="cohort-deleted"' in status
    dataset = client.get(f"/preparation/jeux/{run.dataset.pk}/").content.decode()
    assert "manifest-verified" in dataset
    assert "COHORT_LINKS" in dataset
    assert f"/preparation/appariements/{run.pk}/" in dataset
    assert not leftovers(settings)


def test_a_queued_run_shows_live_status(linkable):
    run = request(linkable)
    client = client_for(linkable.world.engineer)
    page = client.get(f"/preparation/appariements/{run.pk}/").content.decode()
    assert f'data-poll-url="/preparation/appariements/{run.pk}/statut"' in page
    status = client.get(f"/preparation/appariements/{run.pk}/statut").content.decode()
    assert "data-done" not in status
    assert 'id="linkage-status"' in status


def test_members_other_staff_and_anonymous_are_denied(linkable, settings):
    world = linkable.world
    run = request(linkable)
    urls = [
        f"/preparation/autorisations/{world.permit.pk}/",
        f"/preparation/appariements/{run.pk}/",
        f"/preparation/appariements/{run.pk}/statut",
    ]
    insider = staff(Role.DATA_ENGINEER)
    with service_writes():
        world.permit.members = [
            *world.permit.members,
            {"user_id": insider.pk, "username": insider.username, "role": "member"},
        ]
        world.permit.save(update_fields=["members"])
    member = User.objects.get(pk=min(world.permit.member_ids() - {insider.pk}))
    people = [member, insider, staff(Role.GUICHET_OFFICER), staff(Role.AUDITOR)]
    for person in people:
        client = client_for(person)
        for url in urls:
            assert client.get(url).status_code == 403, (person.username, url)
        assert upload(client, world.permit.pk, linkable.cohort_csv).status_code == 403
    anonymous = Client()
    for url in urls:
        assert anonymous.get(url).status_code == 302, url
    assert upload(anonymous, world.permit.pk, linkable.cohort_csv).status_code == 302
    assert LinkageRun.objects.count() == 1
    assert [p.name for p in leftovers(settings)] == [f"cohort-run{run.pk}.csv"]
    assert AuditEvent.objects.filter(action="permission.denied").exists()


def test_an_upload_without_the_csrf_token_is_refused(linkable, settings):
    client = client_for(linkable.world.engineer)
    client.handler.enforce_csrf_checks = True
    assert upload(client, linkable.world.permit.pk, linkable.cohort_csv).status_code == 403
    assert not LinkageRun.objects.exists()
    assert not leftovers(settings)


HOSTILE = {
    "not csv": ("cohorte.csv", b"%PDF-1.4\n\x00\x01\x02\xff\xfe\n"),
    "wrong columns": ("cohorte.csv", b"id;nom;prenom\n1;DURAND;Marie\n"),
    "nul": ("cohorte.csv", HEADER + b"R1,Ma\x00rie,DURAND,1980-01-02,2,75011\n"),
    "long cell": ("cohorte.csv", HEADER + b"R1,Marie," + b"D" * 10_000 + b",1980-01-02,2,75011\n"),
    "formula": ("cohorte.csv", HEADER + b"R1,=CMD(),DURAND,1980-01-02,2,75011\n"),
    "executable": ("cohorte.exe", b"MZ\x90\x00"),
}


def test_hostile_uploads_get_clear_errors_and_nothing_is_kept(linkable, settings):
    client = client_for(linkable.world.engineer)
    for case, (name, data) in HOSTILE.items():
        response = upload(client, linkable.world.permit.pk, data, name=name)
        assert response.status_code == 400, case
        page = response.content.decode()
        assert 'id="linkage-errors"' in page, case
        assert "=CMD" not in page, case
        assert "<script>" not in page, case
    page = upload(client, linkable.world.permit.pk, HOSTILE["formula"][1]).content.decode()
    assert "ligne 2, colonne first_name" in page
    wrong = upload(client, linkable.world.permit.pk, HOSTILE["wrong columns"][1]).content.decode()
    assert "colonne record_id" in wrong
    assert not LinkageRun.objects.exists()
    assert not leftovers(settings)


def test_bad_parameters_and_missing_files_are_refused(linkable, settings):
    client = client_for(linkable.world.engineer)
    permit = linkable.world.permit.pk
    for form in ({"threshold": "1.5"}, {"threshold": "abc"}, {"engine": "oracle"}):
        assert upload(client, permit, linkable.cohort_csv, **form).status_code == 400, form
    response = client.post(
        f"/preparation/autorisations/{permit}/appariements/", {"threshold": "0.9"}
    )
    assert response.status_code == 400
    assert client.get(f"/preparation/autorisations/{permit}/appariements/").status_code == 405
    for url in ("/preparation/appariements/0/", "/preparation/appariements/99999999999999999999/"):
        assert client.get(url).status_code == 404, url
    assert not LinkageRun.objects.exists()
    assert not leftovers(settings)


def test_a_file_over_the_limit_is_stopped_while_it_is_read(linkable, settings):
    client = client_for(linkable.world.engineer)
    permit = linkable.world.permit.pk
    # The body is within the form allowance, the file is not: the upload handler stops it.
    settings.HDH_LINKAGE_UPLOAD_MAX_BYTES = len(linkable.cohort_csv) - 100
    response = upload(client, permit, linkable.cohort_csv)
    assert response.status_code == 413
    assert "Mo" in response.content.decode()
    # A body far over the limit is refused before it is read at all.
    settings.HDH_LINKAGE_UPLOAD_MAX_BYTES = 1024
    response = upload(client, permit, linkable.cohort_csv * 20)
    assert response.status_code == 413
    assert not LinkageRun.objects.exists()
    assert not leftovers(settings)


def test_markup_in_a_name_stays_data_and_is_never_shown(linkable, settings):
    client = client_for(linkable.world.engineer)
    data = linkable.cohort_csv + b"Z1,<script>alert(1)</script>,DURAND,1980-01-02,2,75011\n"
    response = upload(client, linkable.world.permit.pk, data, name="<script>.csv")
    assert response.status_code == 302
    run = LinkageRun.objects.get()
    for url in (response["Location"], f"/preparation/autorisations/{linkable.world.permit.pk}/"):
        page = client.get(url).content.decode()
        assert "<script>alert" not in page
        assert "&lt;script&gt;" not in page
    assert [p.name for p in leftovers(settings)] == [f"cohort-run{run.pk}.csv"]


def test_no_upload_form_before_a_dataset_is_published(world, settings, tmp_path):
    settings.HDH_HOME = tmp_path / "home"
    client = client_for(world.engineer)
    page = client.get(f"/preparation/autorisations/{world.permit.pk}/").content.decode()
    assert 'id="linkage-needs-dataset"' in page
    assert 'id="linkage-form"' not in page
    response = upload(client, world.permit.pk, HEADER + b"R1,Marie,DURAND,1980-01-02,2,75011\n")
    assert response.status_code == 302
    assert not LinkageRun.objects.exists()
    assert not leftovers(settings)
