"""Confluence storage format → GitHub-flavoured Markdown. Pure: no Django, no network, no files.

from confluence.convert import ConvertContext, convert, render_front_matter

result = convert(storage_body, ConvertContext(site_url="https://example.atlassian.net", page_id="42"))
result.markdown, result.attachments, result.linked_pages, result.unknown_macros, result.warnings, result.mentions
"""

from .context import ConversionResult, ConvertContext, PageRef, SitePage, SiteTree
from .document import CONVERTER_VERSION, convert
from .frontmatter import PageMeta, render_front_matter
from .inclusion_sources import sources_of

__all__ = [
    "CONVERTER_VERSION",
    "ConversionResult",
    "ConvertContext",
    "PageMeta",
    "PageRef",
    "SitePage",
    "SiteTree",
    "convert",
    "render_front_matter",
    "sources_of",
]
