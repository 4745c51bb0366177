"""What staff may do with rows the app writes itself, for every app's admin (ModelAdmin or inline alike)."""

from __future__ import annotations


class NoAdding:
    """The app creates these rows (runs, deliveries, events, setup tasks, keys): staff look, filter and act on them,
    never add one by hand."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class ReadOnly(NoAdding):
    """Rows that record what happened (events received, reports, tokens used): staff look, filter and search."""

    def has_change_permission(self, request, obj=None) -> bool:
        return False
