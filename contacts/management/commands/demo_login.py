from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand

USERNAME = "admin"


class Command(BaseCommand):
    help = "Create the demo admin login once and print it."

    def handle(self, *args: Any, **options: Any) -> None:
        User = get_user_model()
        password_file = settings.LOCAL_DIR / "demo-admin-password"
        user = User.objects.filter(username=USERNAME).first()
        if user is None or not password_file.exists():
            password = secrets.token_urlsafe(12)
            user = user or User(username=USERNAME, email="admin@example.com")
            user.first_name = "Admin"
            user.is_staff = user.is_superuser = True
            user.set_password(password)
            user.save()
            password_file.parent.mkdir(parents=True, exist_ok=True)
            password_file.write_text(password)
            password_file.chmod(0o600)
        password = password_file.read_text().strip()
        self.stdout.write(
            self.style.SUCCESS(
                "\n  MioCRM: http://127.0.0.1:8000/\n"
                f"  Sign in as {USERNAME} / {password}\n"
            )
        )
