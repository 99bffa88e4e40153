from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "storeops.orders"
    label = "orders"
    verbose_name = _("订单")

    def ready(self) -> None:
        # registers the ORD checks (invoice_checks: ORD-07, h6)
        from storeops.orders import checks, invoice_checks  # noqa: F401
