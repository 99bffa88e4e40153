from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ServiceConfig(AppConfig):
    name = "storeops.service"
    label = "service"
    verbose_name = _("客户服务")

    def ready(self) -> None:
        from storeops.service import checks  # noqa: F401  (registers the CS checks)
