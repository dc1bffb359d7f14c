"""URLs of the import wizard; prospects/urls.py adds them to its namespace."""

from __future__ import annotations

from django.urls import path

from prospects.importing import views

urlpatterns = [
    path("prospects/import/", views.import_upload, name="import_upload"),
    path("prospects/import/sample.csv", views.import_sample, name="import_sample"),
    path("prospects/import/<int:pk>/map/", views.import_map, name="import_map"),
    path("prospects/import/<int:pk>/test/", views.import_test, name="import_test"),
    path(
        "prospects/import/<int:pk>/progress/",
        views.import_progress,
        name="import_progress",
    ),
    path(
        "prospects/import/<int:pk>/result/", views.import_result, name="import_result"
    ),
    path(
        "prospects/import/<int:pk>/resume/", views.import_resume, name="import_resume"
    ),
    path(
        "prospects/import/<int:pk>/errors.csv",
        views.import_errors,
        name="import_errors",
    ),
]
