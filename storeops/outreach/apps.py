from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OutreachConfig(AppConfig):
    name = "storeops.outreach"
    label = "outreach"
    verbose_name = _("会员触达")

    def ready(self) -> None:
        from storeops.outreach import checks  # noqa: F401  (registers MEM-06)
