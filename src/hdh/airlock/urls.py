from django.urls import path

from hdh.airlock import views

app_name = "airlock"

urlpatterns = [
    path("", views.index, name="index"),
    path("controle/", views.queue, name="queue"),
    path("espace/<int:workspace_pk>/", views.workspace, name="workspace"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/ajouter/", views.add_file, name="add_file"),
    path("<int:pk>/groupe/", views.save_group, name="save_group"),
    path("<int:pk>/commenter/", views.add_comment, name="comment"),
    path("<int:pk>/soumettre/", views.submit, name="submit"),
    path("<int:pk>/retirer/", views.withdraw, name="withdraw"),
    path("<int:pk>/examen/", views.submit_review, name="submit_review"),
    path("<int:pk>/approuver/", views.approve, name="approve"),
    path("<int:pk>/renvoyer/", views.return_request, name="return"),
    path("<int:pk>/refuser/", views.reject, name="reject"),
    path("<int:pk>/fichiers/<int:file_pk>/", views.file_page, name="file"),
    path("<int:pk>/fichiers/<int:file_pk>/resultats/", views.results_page, name="results"),
    path("<int:pk>/fichiers/<int:file_pk>/remplacer/", views.replace_file, name="replace"),
    path("<int:pk>/fichiers/<int:file_pk>/retirer/", views.remove_file, name="remove"),
    path("<int:pk>/fichiers/<int:file_pk>/nature/", views.change_kind, name="kind"),
    path("<int:pk>/fichiers/<int:file_pk>/avis/", views.vote, name="vote"),
    path("<int:pk>/fichiers/<int:file_pk>/telecharger/", views.download, name="download"),
]
