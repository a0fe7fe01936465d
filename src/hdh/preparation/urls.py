from django.urls import path

from hdh.preparation import views

app_name = "preparation"

urlpatterns = [
    path("", views.index, name="index"),
    path("autorisations/<int:pk>/", views.permit_detail, name="permit"),
    path("autorisations/<int:pk>/plans/", views.create_plan, name="create_plan"),
    path("plans/<int:pk>/", views.plan_detail, name="plan"),
    path("plans/<int:pk>/approuver", views.approve_plan, name="approve"),
    path("plans/<int:pk>/executer", views.start_run, name="start_run"),
    path("plans/<int:pk>/ouvrir-espace", views.open_workspace, name="open_workspace"),
    path("executions/<int:pk>/", views.run_detail, name="run"),
    path("executions/<int:pk>/progression", views.run_progress, name="progress"),
    path("executions/<int:pk>/annuler", views.cancel_run, name="cancel"),
    path("jeux/<int:pk>/", views.dataset_detail, name="dataset"),
    path("autorisations/<int:pk>/appariements/", views.request_linkage, name="request_linkage"),
    path("appariements/<int:pk>/", views.linkage_detail, name="linkage"),
    path("appariements/<int:pk>/statut", views.linkage_status, name="linkage_status"),
]
