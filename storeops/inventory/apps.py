from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InventoryConfig(AppConfig):
    name = "storeops.inventory"
    label = "inventory"
    verbose_name = _("库存")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from storeops.inventory import checks  # noqa: F401  (registers the INV checks)
