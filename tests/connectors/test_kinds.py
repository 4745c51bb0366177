"""Connector kinds: "sync now" asked of a kind, whether or not it can sync."""

from connectors.kinds import ConnectorKind


def kind(**fields) -> ConnectorKind:
    return ConnectorKind(key="test", label="Test", description="", steps=(), **fields)


def test_it_hands_sync_now_to_the_kind_with_its_options():
    asked = []
    syncing = kind(sync_now=lambda connection, **options: asked.append((connection, options)) or "run")

    assert syncing.queue_sync("a connection", trigger="admin") == "run"
    assert asked == [("a connection", {"trigger": "admin"})]


def test_it_queues_nothing_for_a_kind_without_a_sync():
    assert kind().queue_sync("a connection") is None
