from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StoresConfig(AppConfig):
    name = "storeops.stores"
    label = "stores"
    verbose_name = _("店铺与渠道")

    def ready(self) -> None:
        from storeops.stores import checks  # noqa: F401  (registers the STORE checks)
