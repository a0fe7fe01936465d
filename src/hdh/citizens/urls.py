from django.urls import path

from hdh.citizens import views

app_name = "citizens"

urlpatterns = [
    path("", views.index, name="index"),
    path("protection-des-donnees/", views.protection, name="protection"),
    path("delegue-protection-donnees/", views.dpo, name="dpo"),
    path("chiffres/", views.report, name="report"),
    path("bases/", views.bases, name="bases"),
    path("bases/<slug:slug>/", views.base, name="base"),
    path("opposition/", views.objection, name="objection"),
    path("opposition/accuse-de-reception/", views.objection_receipt, name="objection_receipt"),
    path("opposition/connexion/", views.oidc_login, name="oidc_login"),
    path("opposition/connexion/retour/", views.oidc_callback, name="oidc_callback"),
    path("opposition/suivi/", views.objection_status, name="objection_status"),
    path("droits/", views.rights, name="rights"),
    path("droits/suivi/", views.rights_status, name="rights_status"),
    path("droits/traitement/", views.inbox, name="inbox"),
    path("droits/traitement/<str:reference>/", views.inbox_detail, name="inbox_detail"),
]
