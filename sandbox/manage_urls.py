"""Pages to change the simulated world by hand during `make run` (edit pages, trigger events, push commits)."""

urlpatterns: list = []
