from __future__ import annotations

from django.urls import path

from bookings import views

app_name = "bookings"

urlpatterns = [
    path("book/", views.public_booking, name="public"),
    path("book/draft/", views.save_draft, name="draft_save"),
    path(
        "book/confirmed/<str:signed>/", views.public_confirmed, name="public_confirmed"
    ),
    path(
        "book/requested/<str:signed>/", views.public_requested, name="public_requested"
    ),
    path("book/thanks/", views.public_thanks, name="public_thanks"),
    path("bookings/", views.booking_list, name="list"),
    path("bookings/new/", views.booking_create, name="create"),
    path("bookings/<int:pk>/", views.booking_detail, name="detail"),
    path("bookings/<int:pk>/cancel/", views.booking_cancel, name="cancel"),
    path("bookings/<int:pk>/reschedule/", views.booking_reschedule, name="reschedule"),
    path("bookings/settings/", views.booking_settings, name="settings"),
    path("bookings/services/new/", views.service_edit, name="service_create"),
    path("bookings/services/<int:pk>/", views.service_edit, name="service_edit"),
    path("bookings/closed-days/", views.closed_day_add, name="closed_day_add"),
    path(
        "bookings/closed-days/<int:pk>/delete/",
        views.closed_day_delete,
        name="closed_day_delete",
    ),
]
