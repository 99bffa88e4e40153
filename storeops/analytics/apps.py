from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnalyticsConfig(AppConfig):
    name = "storeops.analytics"
    label = "analytics"
    verbose_name = _("数据分析")

    def ready(self) -> None:
        from storeops.analytics import checks  # noqa: F401  (registers TEAM-01)
