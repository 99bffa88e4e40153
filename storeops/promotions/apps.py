from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PromotionsConfig(AppConfig):
    name = "storeops.promotions"
    label = "promotions"
    verbose_name = _("促销与优惠券")
