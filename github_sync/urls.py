"""Every URL of ingestion and search; included at the site root by ctxsite/urls.py."""

from django.urls import path

from github_sync import api, views

urlpatterns = [
    path("integrations/github/webhook", views.github_webhook, name="github-webhook"),
    path(
        "orgs/<slug:slug>/connections/<int:connection_id>/github/repositories/",
        views.select_repositories,
        name="github-repositories",
    ),
    path("orgs/<slug:slug>/search/", views.search_page, name="search"),
    path("orgs/<slug:slug>/api-keys/", views.api_keys, name="api-keys"),
    path("orgs/<slug:slug>/api-keys/<int:key_id>/revoke/", views.api_key_revoke, name="api-key-revoke"),
    path("api/v1/orgs/<slug:slug>/search", api.search_view, name="api-search"),
    # The repository is "owner/name", so it takes two path segments; everything after it is the file's path.
    path(
        "api/v1/orgs/<slug:slug>/documents/<str:owner>/<str:name>/<path:path>",
        api.document_view,
        name="api-document",
    ),
]
