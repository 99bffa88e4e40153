from django.urls import path

from storeops.console import views

app_name = "console"
urlpatterns = [
    path("", views.home, name="home"),
    path("findings/", views.findings, name="findings"),
    path("findings/run/", views.run_checks, name="run_checks"),
    path("findings/<int:finding_id>/", views.finding_detail, name="finding_detail"),
    path("findings/<int:finding_id>/<str:action>/", views.finding_action, name="finding_action"),
    path("audit/", views.audit, name="audit"),
    path("playbook/", views.playbook, name="playbook"),
    path("qualifications/", views.qualifications, name="qualifications"),
    path("language/", views.set_language, name="set_language"),
]
