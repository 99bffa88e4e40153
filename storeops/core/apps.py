from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "storeops.core"
    label = "core"
    verbose_name = "Core"
