from __future__ import annotations

from prospects.importing.urls import urlpatterns as importing_urlpatterns

app_name = "prospects"

urlpatterns: list = []
urlpatterns += importing_urlpatterns
