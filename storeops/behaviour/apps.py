from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BehaviourConfig(AppConfig):
    name = "storeops.behaviour"
    label = "behaviour"
    verbose_name = _("行为分析")

    def ready(self) -> None:
        from storeops.behaviour import checks  # noqa: F401  (registers DATA-04, DATA-05)
