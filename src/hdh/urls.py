from django.contrib import admin
from django.urls import include, path

from hdh.api import api
from hdh.core import views as core_views

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("accessibilite", core_views.accessibility, name="accessibility"),
    path("mentions-legales", core_views.legal_notice, name="legal_notice"),
    path("donnees-personnelles", core_views.personal_data, name="personal_data"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("comptes/", include("hdh.accounts.urls")),
    path("catalogue/", include("hdh.catalog.urls")),
    path("lac/", include("hdh.lake.urls")),
    path("projets/", include("hdh.access.urls")),
    path("preparation/", include("hdh.preparation.urls")),
    path("espaces/", include("hdh.workspace.urls")),
    path("citoyens/", include("hdh.citizens.urls")),
    path("sas/", include("hdh.airlock.urls")),
    path("api/", api.urls),
    path("admin/", admin.site.urls),
]
