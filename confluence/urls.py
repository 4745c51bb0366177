from django.urls import path

from confluence.setup import views as setup_views
from confluence.sync import views as run_views

prefix = "orgs/<slug:slug>/connections/<int:connection_id>/confluence"

urlpatterns = [
    path(f"{prefix}/atlassian/", setup_views.atlassian_step, name="confluence-step-atlassian"),
    path(f"{prefix}/atlassian/complete/", setup_views.atlassian_complete, name="confluence-step-atlassian-complete"),
    path(f"{prefix}/forge/", setup_views.forge_step, name="confluence-step-forge"),
    path(f"{prefix}/forge/status/", setup_views.forge_status, name="confluence-step-forge-status"),
    path(f"{prefix}/runs/live/", run_views.runs_table, name="confluence-runs-table"),
    path(f"{prefix}/repository/", setup_views.repository_step, name="confluence-step-repository"),
    path(f"{prefix}/scope/", setup_views.scope_step, name="confluence-step-scope"),
    path(f"{prefix}/scope/children/", setup_views.scope_children, name="confluence-scope-children"),
    path(f"{prefix}/scope/restricted/", setup_views.restricted_pages, name="confluence-restricted"),
    path(f"{prefix}/status/", run_views.status, name="confluence-status"),
    path(f"{prefix}/runs/", run_views.runs, name="confluence-runs"),
]
