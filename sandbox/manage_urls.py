"""Pages to change the simulated world by hand during `make run` (edit pages, trigger events, push commits).

Spaces and pages are addressed by the ids the simulator mints (digits), never by their keys or titles: whatever a
saved world holds in those (a key from before keys were checked, say), every link can be built and the index page
renders. A site's cloud id is minted by the simulator too (the form only asks for a name).
"""

from django.urls import path

from sandbox import manage_views

urlpatterns = [
    path("", manage_views.index, name="sandbox-manage"),
    path("atlassian/sites/", manage_views.create_site, name="sandbox-manage-create-site"),
    path("atlassian/sites/<str:cloud_id>/", manage_views.site_action, name="sandbox-manage-site"),
    path("atlassian/grants/revoke/", manage_views.revoke_grant, name="sandbox-manage-revoke"),
    path("atlassian/accounts/<str:account_id>/", manage_views.account_action, name="sandbox-manage-account"),
    path("atlassian/groups/", manage_views.create_group, name="sandbox-manage-create-group"),
    path("atlassian/spaces/<str:space_id>/access/", manage_views.space_access, name="sandbox-manage-space-access"),
    path("atlassian/spaces/<str:space_id>/", manage_views.space_detail, name="sandbox-manage-space"),
    path("atlassian/spaces/<str:space_id>/pages/", manage_views.create_page, name="sandbox-manage-create-page"),
    path("atlassian/pages/<str:page_id>/", manage_views.page_detail, name="sandbox-manage-page"),
    path("atlassian/pages/<str:page_id>/actions/", manage_views.page_action, name="sandbox-manage-page-action"),
]
