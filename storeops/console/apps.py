from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "storeops.console"
    label = "console"
