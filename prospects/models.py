"""CRM → Prospects lists Prospect rows: contacts at stage prospect, not merged."""

from __future__ import annotations

from django.db import models

from contacts.models import Contact, ContactQuerySet, Stage
from prospects.importing.models import *  # noqa: F401,F403


class ProspectManager(models.Manager.from_queryset(ContactQuerySet)):
    def get_queryset(self) -> ContactQuerySet:
        return super().get_queryset().filter(stage=Stage.PROSPECT, merged_into=None)


class CustomerManager(models.Manager.from_queryset(ContactQuerySet)):
    def get_queryset(self) -> ContactQuerySet:
        return super().get_queryset().filter(stage=Stage.CUSTOMER, merged_into=None)


class Prospect(Contact):
    objects = ProspectManager()

    class Meta:
        proxy = True


class Customer(Contact):
    objects = CustomerManager()

    class Meta:
        proxy = True
