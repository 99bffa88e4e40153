from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PricingConfig(AppConfig):
    name = "storeops.pricing"
    label = "pricing"
    verbose_name = _("定价")

    def ready(self) -> None:
        from storeops.pricing import checks  # noqa: F401  (registers the PRICE checks)
