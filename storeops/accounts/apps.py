from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "storeops.accounts"
    label = "accounts"
    verbose_name = _("账号与权限")

    def ready(self) -> None:
        from storeops.accounts.services import roles_sync

        def _sync(sender: AppConfig, **kwargs: object) -> None:
            # Permissions of every app exist once post_migrate of all apps has run; syncing on
            # each app's signal is idempotent and cheap.
            roles_sync(using=str(kwargs.get("using", "default")))

        # weak=False: _sync is a closure that nothing else references; a weak receiver would be
        # garbage-collected after ready() and roles would silently get no permissions.
        post_migrate.connect(_sync, dispatch_uid="storeops_roles_sync", weak=False)
