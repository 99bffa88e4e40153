from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MembersConfig(AppConfig):
    name = "storeops.members"
    label = "members"
    verbose_name = _("会员")

    def ready(self) -> None:
        from storeops.members import checks  # noqa: F401  (registers the MEM-03/05 checks)
