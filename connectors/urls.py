"""The Connectors pages: an organization's connections, their setup and settings, its members and invitations."""

from django.urls import include, path

from connectors import invitation_views, member_views, setup_views, views

# Under orgs/<slug>/connections/<connection_id>/setup/.
setup_urls = [
    path("", setup_views.connection_setup, name="connection-setup"),
    path("steps/", setup_views.connection_setup_steps, name="connection-setup-steps"),
]

# Under orgs/<slug>/connections/<connection_id>/.
connection_urls = [
    path("setup/", include(setup_urls)),
    path("settings/", views.connection_settings, name="connection-settings"),
    path("pause/", views.connection_pause, name="connection-pause"),
    path("sync/", views.connection_sync, name="connection-sync"),
    path("delete/", views.connection_delete, name="connection-delete"),
]

# Under invitations/. The token-free pages come before the emailed link's pattern, which would also match them.
invitation_urls = [
    path("accept/", invitation_views.invitation_accept, name="invitation-accept"),
    path("accept/verify-email/", invitation_views.invitation_verify_email, name="invitation-verify-email"),
    path("accept/switch-account/", invitation_views.invitation_switch_account, name="invitation-switch-account"),
    path("<str:token>/", invitation_views.invitation_open, name="invitation-open"),
]

# Under orgs/<slug>/.
org_urls = [
    path("connectors/", views.connectors_page, name="connectors"),
    path("connectors/cards/", views.connectors_cards, name="connectors-cards"),
    path("connectors/add/", views.connection_add, name="connection-add"),
    path("members/", member_views.members, name="members"),
    path("members/invite/", member_views.member_invite, name="member-invite"),
    path("members/<int:membership_id>/", member_views.member_change, name="member-change"),
    path("invitations/<int:invitation_id>/revoke/", member_views.invitation_revoke, name="invitation-revoke"),
    path("invitations/<int:invitation_id>/reissue/", member_views.invitation_reissue, name="invitation-reissue"),
    path("connections/<int:connection_id>/", include(connection_urls)),
]

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("orgs/new/", views.org_create, name="org-create"),
    path("orgs/<slug:slug>/", include(org_urls)),
    path("invitations/", include(invitation_urls)),
]
