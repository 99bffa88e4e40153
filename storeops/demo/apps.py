from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "storeops.demo"
    label = "demo"
