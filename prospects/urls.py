from __future__ import annotations

from django.urls import path

from prospects import views
from prospects.importing.urls import urlpatterns as importing_urlpatterns

app_name = "prospects"

urlpatterns = [
    path("prospects/", views.prospect_list, name="list"),
    path("prospects/new/", views.create, name="create"),
    path("prospects/bulk/", views.bulk, name="bulk"),
    path("prospects/export/", views.export, name="export"),
    path("prospects/duplicates/", views.duplicates, name="duplicates"),
    path(
        "prospects/duplicates/dismiss/",
        views.dismiss_duplicate,
        name="dismiss_duplicate",
    ),
    path("prospects/<int:pk>/", views.detail, name="detail"),
    path("prospects/<int:pk>/edit/", views.edit, name="edit"),
    path("prospects/<int:pk>/convert/", views.convert, name="convert"),
    path("prospects/<int:pk>/follow-up/", views.follow_up, name="follow_up"),
    path(
        "prospects/<int:pk>/permissions/",
        views.change_permission,
        name="change_permission",
    ),
    path("prospects/<int:pk>/timeline/", views.timeline, name="timeline"),
    path("prospects/<int:pk>/notes/", views.note_add, name="note_add"),
    path(
        "prospects/<int:pk>/notes/<int:note_pk>/edit/",
        views.note_edit,
        name="note_edit",
    ),
    path(
        "prospects/<int:pk>/notes/<int:note_pk>/delete/",
        views.note_delete,
        name="note_delete",
    ),
    path("prospects/<int:pk>/merge/", views.merge_pick, name="merge_pick"),
    path("prospects/<int:pk>/merge/<int:other_pk>/", views.merge, name="merge"),
    path("search/", views.search_people, name="search"),
    path("customers/", views.customer_list, name="customer_list"),
    path("customers/<int:pk>/", views.detail, name="customer_detail"),
]
urlpatterns += importing_urlpatterns
