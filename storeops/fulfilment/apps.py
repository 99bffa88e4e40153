from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FulfilmentConfig(AppConfig):
    name = "storeops.fulfilment"
    label = "fulfilment"
    verbose_name = _("物流履约")

    def ready(self) -> None:
        from storeops.fulfilment import checks  # noqa: F401  (registers the LOG checks)
