from __future__ import annotations

app_name = "prospects"

urlpatterns: list = []
