from django.contrib import admin
from django.urls import include, path, re_path

from storeops.config.api import api, not_found_view

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    re_path(r"^api/v1/(?P<rest>.*)$", not_found_view),  # the error shape, not an HTML 404
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("storeops.console.urls")),
]
