from __future__ import annotations

app_name = "quotes"

urlpatterns: list = []
