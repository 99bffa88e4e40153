from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BackupsConfig(AppConfig):
    """Database backup, off-machine copy, retention and restore (SOP STORE-06)."""

    name = "storeops.backups"
    label = "backups"
    verbose_name = _("备份")
