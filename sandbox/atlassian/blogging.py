"""The Python API for blog posts of the simulated Confluence: write, edit, trash and purge them, each change
emitting the Forge `…:blogpost` event it causes.

A blog post is content like a page (the same ids, versions, labels, restrictions and attachments), kept in
`sim.pages` with `type = "blogpost"`; it has no parent and no children, and its posting day is its creation date.
Edits, trashing, restoring and purging go through the page methods (EditingMixin), which emit the event of the
content's own type; the methods here only refuse a page where a blog post is meant.
"""

from __future__ import annotations

from sandbox.atlassian.models import Page


class BloggingMixin:
    def create_blogpost(
        self,
        cloud_id: str,
        *,
        space_key: str,
        title: str,
        body: str,
        author_id: str | None = None,
        labels: tuple[str, ...] | list[str] = (),
        posted_at: int | None = None,
        emit: bool = True,
    ) -> Page:
        """Post to the space's blog. `posted_at` (ms) backdates the posting day (a seeded blog spans months)."""
        with self.lock:
            space = self.existing_space(cloud_id, space_key)
            author = author_id or self.default_user().account_id
            now = self.clock.tick() if posted_at is None else posted_at
            post = self.new_content(space, title=title, body=body, author=author, at=now, type="blogpost")
            self.index_page(post)
            for label in labels:
                self.add_label(post.id, label, emit=False)  # part of the creation, as for pages
            if emit:
                self._emit_page("created", post)
            return post

    def update_blogpost(self, post_id: str, *, body: str | None = None, title: str | None = None, **options) -> Page:
        """A new version of the post (emits `avi:confluence:updated:blogpost`)."""
        self.blogpost(post_id)
        return self.update_page(post_id, body=body, title=title, **options)

    def trash_blogpost(self, post_id: str, *, emit: bool = True) -> Page:
        self.blogpost(post_id)
        return self.trash_page(post_id, emit=emit)

    def purge_blogpost(self, post_id: str, *, emit: bool = True) -> None:
        self.blogpost(post_id)
        self.purge_page(post_id, emit=emit)

    def blogpost(self, post_id: str) -> Page:
        post = self.pages[post_id]
        if post.type != "blogpost":
            raise ValueError(f"{post_id} is a page, not a blog post")
        return post

    def space_blogposts(self, space_id: str) -> list[Page]:
        """The space's blog posts in any state, oldest id first."""
        return [self.pages[str(i)] for i in self.space_post_ids.get(space_id, ())]
