from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AftersalesConfig(AppConfig):
    name = "storeops.aftersales"
    label = "aftersales"
    verbose_name = _("售后")

    def ready(self) -> None:
        from storeops.aftersales import checks  # noqa: F401  (registers the AS checks)
