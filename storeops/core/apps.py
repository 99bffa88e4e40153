from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "storeops.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created
        from django.db.models.signals import pre_save

        from storeops.core.guards import column_limits_check, refuse_ints_beyond_64_bits

        pre_save.connect(column_limits_check, dispatch_uid="storeops.core.column_limits_check")
        connection_created.connect(refuse_ints_beyond_64_bits, dispatch_uid="storeops.core.int64")
