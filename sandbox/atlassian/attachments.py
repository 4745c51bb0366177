"""Attachments and the bytes behind them, which live on disk under the simulator's root.

As in Confluence, attaching, replacing (the same file name again: a new version) and removing a file makes no new
version of its page; each emits its own attachment event. Removing moves the attachment to the trash, from which it
can be restored or purged for good.
"""

from __future__ import annotations

from pathlib import Path

from sandbox.atlassian import events
from sandbox.atlassian.models import Attachment, AttachmentVersion


class AttachmentsMixin:
    def add_attachment(
        self, page_id: str, *, filename: str, data: bytes, media_type: str, comment: str = "", emit: bool = True
    ) -> Attachment:
        """Attach a file; the same filename again makes a new version of the page's current attachment."""
        with self.lock:
            page = self.pages[page_id]
            attachment = self._current_attachment(page, filename)
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
                self._emit_attachment("created" if number == 1 else "updated", attachment)
            return attachment

    def trash_attachment(self, attachment_id: str, *, emit: bool = True) -> Attachment:
        """Delete from the page: to the trash, listed only when asked for `status=trashed`."""
        return self._set_attachment_status(attachment_id, "trashed", "trashed", emit, expect="current")

    def restore_attachment(self, attachment_id: str, *, emit: bool = True) -> Attachment:
        with self.lock:
            attachment = self.attachments[attachment_id]
            if attachment.status == "trashed" and self._current_attachment(
                self.pages[attachment.page_id], attachment.title
            ):
                raise ValueError(f"the page has another attachment named {attachment.title}")
            return self._set_attachment_status(attachment_id, "current", "restored", emit, expect="trashed")

    def purge_attachment(self, attachment_id: str, *, emit: bool = True) -> None:
        """Gone for good: the API answers 404 from now on."""
        with self.lock:
            attachment = self.attachments[attachment_id]
            payload = events.attachment_event(self, attachment, status="deleted")
            page = self.pages[attachment.page_id]
            page.attachment_ids.remove(attachment.id)
            del self.attachments[attachment.id]
            if emit:
                self.emit_event("avi:confluence:deleted:attachment", page.cloud_id, payload)

    def read_media(self, file_id: str) -> bytes | None:
        path = self._media_path(file_id)
        return path.read_bytes() if path.exists() else None

    def _current_attachment(self, page, filename: str) -> Attachment | None:
        found = (self.attachments[a] for a in page.attachment_ids)
        return next((a for a in found if a.title == filename and a.status == "current"), None)

    def _set_attachment_status(self, attachment_id: str, status: str, verb: str, emit: bool, *, expect: str):
        with self.lock:
            attachment = self.attachments[attachment_id]
            if attachment.status != expect:
                raise ValueError(f"the attachment is {attachment.status}, not {expect}")
            attachment.status = status
            if emit:
                self._emit_attachment(verb, attachment)
            return attachment

    def _emit_attachment(self, verb: str, attachment: Attachment) -> None:
        page = self.pages[attachment.page_id]
        self.emit_event(f"avi:confluence:{verb}:attachment", page.cloud_id, events.attachment_event(self, attachment))

    def _media_path(self, file_id: str) -> Path:
        return self.root / "media" / file_id

    def _write_media(self, file_id: str, data: bytes) -> None:
        # Bytes live on disk under `root`, so snapshots stay small and JSON-only.
        path = self._media_path(file_id)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
