from django.urls import path

from hdh.workspace import views

app_name = "workspace"

urlpatterns = [
    path("", views.index, name="index"),
    path("<str:ref>/", views.dashboard, name="dashboard"),
    path("<str:ref>/console/", views.console, name="console"),
    path("<str:ref>/traitements/", views.jobs, name="jobs"),
    path("<str:ref>/traitements/nouveau/", views.new_job, name="new_job"),
    path("<str:ref>/traitements/<int:number>/", views.job_detail, name="job"),
    path("<str:ref>/traitements/<int:number>/etat", views.job_status, name="job_status"),
    path("<str:ref>/traitements/<int:number>/annuler", views.cancel_job, name="cancel_job"),
    path("<str:ref>/traitements/<int:number>/relancer", views.rerun_job, name="rerun_job"),
    path("<str:ref>/sorties/<int:pk>/", views.output_detail, name="output"),
]
