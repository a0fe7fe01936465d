from django.urls import path

from hdh.accounts import tokens, views

app_name = "accounts"
urlpatterns = [
    path("connexion/", views.login_view, name="login"),
    path("double-authentification/", views.mfa_verify, name="mfa_verify"),
    path("double-authentification/activation/", views.mfa_enrol, name="mfa_enrol"),
    path("deconnexion/", views.logout_view, name="logout"),
    path("mon-compte/", views.profile, name="profile"),
    path("mon-compte/jetons/", tokens.tokens_view, name="tokens"),
    path("mon-compte/jetons/<int:pk>/revoquer/", tokens.revoke_view, name="revoke_token"),
]
