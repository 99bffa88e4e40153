from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "storeops.catalog"
    label = "catalog"
    verbose_name = _("商品与供应商")

    def ready(self) -> None:
        from storeops.catalog import checks  # noqa: F401  (registers the LIST/SEL checks)
