from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MarketingConfig(AppConfig):
    name = "storeops.marketing"
    label = "marketing"
    verbose_name = _("营销推广")

    def ready(self) -> None:
        from storeops.marketing import checks  # noqa: F401  (registers PROMO-05..07 and ADS-02)
