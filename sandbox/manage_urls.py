"""Pages to change the simulated world by hand during `make run` (edit pages, trigger events, push commits).

Spaces and pages are addressed by the ids the simulator mints (digits), never by their keys or titles: whatever a
saved world holds in those (a key from before keys were checked, say), every link can be built and the index page
renders. A site's cloud id is minted by the simulator too (the form only asks for a name).
"""

from django.urls import path

from sandbox.manage_views import (
    account_action,
    create_group,
    create_page,
    create_site,
    index,
    page_action,
    page_detail,
    revoke_grant,
    site_action,
    space_access,
    space_detail,
)

urlpatterns = [
    path("", index, name="sandbox-manage"),
    path("atlassian/sites/", create_site, name="sandbox-manage-create-site"),
    path("atlassian/sites/<str:cloud_id>/", site_action, name="sandbox-manage-site"),
    path("atlassian/grants/revoke/", revoke_grant, name="sandbox-manage-revoke"),
    path("atlassian/accounts/<str:account_id>/", account_action, name="sandbox-manage-account"),
    path("atlassian/groups/", create_group, name="sandbox-manage-create-group"),
    path("atlassian/spaces/<str:space_id>/access/", space_access, name="sandbox-manage-space-access"),
    path("atlassian/spaces/<str:space_id>/", space_detail, name="sandbox-manage-space"),
    path("atlassian/spaces/<str:space_id>/pages/", create_page, name="sandbox-manage-create-page"),
    path("atlassian/pages/<str:page_id>/", page_detail, name="sandbox-manage-page"),
    path("atlassian/pages/<str:page_id>/actions/", page_action, name="sandbox-manage-page-action"),
]
