from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "storeops.orders"
    label = "orders"
    verbose_name = _("订单")

    def ready(self) -> None:
        from storeops.orders import checks  # noqa: F401  (registers the ORD checks)
