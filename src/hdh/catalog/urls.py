from django.urls import path

from hdh.catalog import views

app_name = "catalog"

urlpatterns = [
    path("", views.index, name="index"),
    path("recherche/", views.search, name="search"),
    path("bases/nouvelle/", views.base_create, name="base_create"),
    path("bases/<slug:slug>/", views.base, name="base"),
    path("bases/<slug:slug>/modifier/", views.base_edit, name="base_edit"),
    path("bases/<slug:slug>/datapackage.json", views.data_package, name="data_package"),
    path("bases/<slug:slug>/csvw.jsonld", views.csvw, name="csvw"),
    path("bases/<slug:slug>/nomenclatures/<str:name>/", views.code_list, name="code_list"),
    path("bases/<slug:slug>/tables/<str:table>/", views.table, name="table"),
    path("bases/<slug:slug>/tables/<str:table>/<str:variable>/", views.variable, name="variable"),
]
