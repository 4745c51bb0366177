from django.urls import path

from connectors import invitation_views, member_views, setup_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("orgs/new/", views.org_create, name="org-create"),
    path("orgs/<slug:slug>/connectors/", views.connectors_page, name="connectors"),
    path("orgs/<slug:slug>/connectors/cards/", views.connectors_cards, name="connectors-cards"),
    path("orgs/<slug:slug>/connectors/add/", views.connection_add, name="connection-add"),
    path(
        "orgs/<slug:slug>/connections/<int:connection_id>/setup/", setup_views.connection_setup, name="connection-setup"
    ),
    path(
        "orgs/<slug:slug>/connections/<int:connection_id>/setup/steps/",
        setup_views.connection_setup_steps,
        name="connection-setup-steps",
    ),
    path(
        "orgs/<slug:slug>/connections/<int:connection_id>/settings/",
        views.connection_settings,
        name="connection-settings",
    ),
    path("orgs/<slug:slug>/connections/<int:connection_id>/pause/", views.connection_pause, name="connection-pause"),
    path("orgs/<slug:slug>/connections/<int:connection_id>/sync/", views.connection_sync, name="connection-sync"),
    path("orgs/<slug:slug>/connections/<int:connection_id>/delete/", views.connection_delete, name="connection-delete"),
    path("orgs/<slug:slug>/members/", member_views.members, name="members"),
    path("orgs/<slug:slug>/members/invite/", member_views.member_invite, name="member-invite"),
    path("orgs/<slug:slug>/members/<int:membership_id>/", member_views.member_change, name="member-change"),
    path(
        "orgs/<slug:slug>/invitations/<int:invitation_id>/revoke/",
        member_views.invitation_revoke,
        name="invitation-revoke",
    ),
    path(
        "orgs/<slug:slug>/invitations/<int:invitation_id>/reissue/",
        member_views.invitation_reissue,
        name="invitation-reissue",
    ),
    # The token-free invitation pages come before the emailed link's pattern, which would also match them.
    path("invitations/accept/", invitation_views.invitation_accept, name="invitation-accept"),
    path("invitations/accept/verify-email/", invitation_views.invitation_verify_email, name="invitation-verify-email"),
    path(
        "invitations/accept/switch-account/",
        invitation_views.invitation_switch_account,
        name="invitation-switch-account",
    ),
    path("invitations/<str:token>/", invitation_views.invitation_open, name="invitation-open"),
]
