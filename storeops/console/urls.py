from django.urls import path

from storeops.console import account_views, catalog_views, views

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
    path("tokens/", account_views.tokens, name="tokens"),
    path("tokens/<int:token_id>/revoke/", account_views.token_revoke, name="token_revoke"),
    path("catalog/products/", catalog_views.products, name="catalog_products"),
    path("catalog/products/<int:product_id>/", catalog_views.product_detail, name="catalog_product_detail"),
    path(
        "catalog/products/<int:product_id>/submit/",
        catalog_views.product_submit,
        name="catalog_product_submit",
    ),
    path("catalog/audit-queue/", catalog_views.audit_queue, name="catalog_audit_queue"),
    path("catalog/audits/<int:audit_id>/review/", catalog_views.audit_review, name="catalog_audit_review"),
    path("catalog/suppliers/", catalog_views.suppliers, name="catalog_suppliers"),
    path("catalog/selection/", catalog_views.selection, name="catalog_selection"),
    path("pricing/suggester/", catalog_views.price_suggester, name="catalog_price_suggester"),
    path("pricing/competitors/", catalog_views.competitors, name="catalog_competitors"),
]
