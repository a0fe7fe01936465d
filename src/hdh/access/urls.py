from django.urls import path

from hdh.access.views import applicant, public, staff

app_name = "access"

urlpatterns = [
    path("", applicant.index, name="index"),
    path("nouvelle/", applicant.create, name="create"),
    path("retards/", staff.overdue, name="overdue"),
    path("repertoire/", public.index, name="directory"),
    path("repertoire.csv", public.open_data_csv, name="directory_csv"),
    path("repertoire.json", public.open_data_json, name="directory_json"),
    path("repertoire/<str:reference>/", public.project, name="directory_project"),
    path("statistiques/", public.statistics, name="statistics"),
    path("<int:pk>/", applicant.detail, name="detail"),
    path("<int:pk>/modifier/", applicant.edit, name="edit"),
    path("<int:pk>/protocole/", applicant.upload_protocol, name="protocol"),
    path("<int:pk>/protocole/telecharger/", applicant.download_protocol, name="protocol_file"),
    path("<int:pk>/perimetre/", applicant.perimeter_page, name="perimeter"),
    path(
        "<int:pk>/perimetre/<int:item>/retirer/",
        applicant.perimeter_remove,
        name="perimeter_remove",
    ),
    path("<int:pk>/equipe/", applicant.member_add, name="member_add"),
    path("<int:pk>/equipe/<int:member>/retirer/", applicant.member_remove, name="member_remove"),
    path("<int:pk>/deposer/", applicant.submit, name="submit"),
    path("<int:pk>/renvoyer/", applicant.resubmit, name="resubmit"),
    path("<int:pk>/retirer/", applicant.withdraw, name="withdraw"),
    path("<int:pk>/messages/", applicant.message, name="message"),
    path("<int:pk>/modification/", applicant.amend, name="amend"),
    path("<int:pk>/prise-en-charge/", staff.take_up, name="take_up"),
    path("<int:pk>/recevabilite/", staff.admissibility, name="admissibility"),
    path("<int:pk>/rapporteurs/", staff.assign, name="assign"),
    path("<int:pk>/interets/", staff.interests, name="interests"),
    path("<int:pk>/avis/", staff.opinion, name="opinion"),
    path("<int:pk>/avis-comite/", staff.committee, name="committee"),
    path("<int:pk>/complements/", staff.request_information, name="request_information"),
    path("<int:pk>/decision/", staff.decide, name="decide"),
    path("<int:pk>/prolongation/", staff.extend, name="extend"),
    path("<int:pk>/convention/", staff.contract, name="contract"),
    path("<int:pk>/etape/<str:step>/", staff.lifecycle, name="lifecycle"),
]
