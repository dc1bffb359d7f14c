from __future__ import annotations

from django.urls import path

from quotes import views

app_name = "quotes"

urlpatterns = [
    path("quotes/", views.quote_list, name="list"),
    path("quotes/new/", views.quote_create, name="create"),
    path("quotes/<int:pk>/", views.quote_detail, name="detail"),
    path("quotes/<int:pk>/print/", views.quote_print, name="print"),
    path("quotes/contacts/", views.contact_search, name="contact_search"),
    path("service-requests/", views.request_list, name="request_list"),
    path("service-requests/new/", views.request_create, name="request_create"),
    path("service-requests/<int:pk>/", views.request_detail, name="request_detail"),
]
