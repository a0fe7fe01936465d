from django.urls import path

from hdh.lake import views

app_name = "lake"

urlpatterns = [
    path("deposer/", views.deposit, name="deposit"),
    path("depots/<str:reference>/", views.deposit_report, name="deposit_report"),
    path(
        "echantillons/<slug:slug>/<str:table>.csv",
        views.synthetic_sample,
        {"fmt": "csv"},
        name="synthetic_sample",
    ),
    path(
        "echantillons/<slug:slug>/<str:table>.parquet",
        views.synthetic_sample,
        {"fmt": "parquet"},
        name="synthetic_sample_parquet",
    ),
    path("profils/<slug:slug>/<str:table>/<str:variable>/", views.profile, name="variable_profile"),
]
