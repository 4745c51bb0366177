"""The endpoint Forge Remote delivers events to (a fixed path: the Forge manifest names it)."""

from django.urls import path

from confluence.forge import views

urlpatterns = [
    path("integrations/forge/events", views.forge_events_endpoint, name="forge-events"),
]
