"""Every URL of ingestion and search; included at the site root by ctxsite/urls.py."""

from django.urls import include, path

from github_sync import api, views

# Under api/v1/orgs/<slug>/.
api_urls = [
    path("search", api.search_view, name="api-search"),
    # The repository is "owner/name", so it takes two path segments; everything after it is the file's path.
    path("documents/<str:owner>/<str:name>/<path:path>", api.document_view, name="api-document"),
]

# Under orgs/<slug>/.
org_urls = [
    path(
        "connections/<int:connection_id>/github/repositories/",
        views.select_repositories,
        name="github-repositories",
    ),
    path("search/", views.search_page, name="search"),
    path("api-keys/", views.api_keys, name="api-keys"),
    path("api-keys/<int:key_id>/revoke/", views.api_key_revoke, name="api-key-revoke"),
]

urlpatterns = [
    path("integrations/github/webhook", views.github_webhook, name="github-webhook"),
    path("orgs/<slug:slug>/", include(org_urls)),
    path("api/v1/orgs/<slug:slug>/", include(api_urls)),
]
