"""Attachments and the bytes behind them, which live on disk under the simulator's root."""

from __future__ import annotations

from pathlib import Path

from sandbox.atlassian import events
from sandbox.atlassian.models import Attachment, AttachmentVersion


class AttachmentsMixin:
    def add_attachment(
        self, page_id: str, *, filename: str, data: bytes, media_type: str, comment: str = "", emit: bool = True
    ) -> Attachment:
        """Attach a file; the same filename again makes a new version of the existing attachment."""
        with self.lock:
            page = self.pages[page_id]
            attachment = next((a for a in map(self.attachments.get, page.attachment_ids) if a.title == filename), None)
            file_id = self.new_uuid()
            self._write_media(file_id, data)
            author = self.default_user().account_id
            number = attachment.latest.number + 1 if attachment else 1
            version = AttachmentVersion(number, self.clock.tick(), author, file_id, len(data), media_type, comment)
            if attachment is None:
                attachment = Attachment(id=f"att{self.new_id()}", page_id=page_id, title=filename, versions=[])
                self.attachments[attachment.id] = attachment
                page.attachment_ids.append(attachment.id)
            attachment.versions.append(version)
            if emit:
                kind = "created" if number == 1 else "updated"
                payload = events.attachment_event(self, attachment)
                self.emit_event(f"avi:confluence:{kind}:attachment", page.cloud_id, payload)
            return attachment

    def read_media(self, file_id: str) -> bytes | None:
        path = self._media_path(file_id)
        return path.read_bytes() if path.exists() else None

    def _media_path(self, file_id: str) -> Path:
        return self.root / "media" / file_id

    def _write_media(self, file_id: str, data: bytes) -> None:
        # Bytes live on disk under `root`, so snapshots stay small and JSON-only.
        path = self._media_path(file_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
