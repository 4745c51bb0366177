from django.urls import include, path

from sandbox.serving import views

urlpatterns = [
    path("manage/", include("sandbox.manage_urls")),
    path("<str:service>/", views.serve, name="sandbox-serve-root"),
    path("<str:service>/<path:rest>", views.serve, name="sandbox-serve"),
]
