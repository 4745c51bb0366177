"""Convert storage-format files to Markdown: `manage.py confluence_convert FILE [FILE ...] [--out DIR]`."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from confluence.convert import ConvertContext, convert


class Command(BaseCommand):
    help = "Convert Confluence storage-format files to Markdown (stdout for one file, or DIR/<name>.md)."

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE")
        parser.add_argument("--out", metavar="DIR", help="write DIR/<file name without suffix>.md for each FILE")
        parser.add_argument("--site-url", default="", help="the Confluence site, for links back to it")

    def handle(self, *args, files, out, site_url, **options):
        if out is None and len(files) > 1:
            raise CommandError("several files need --out DIR", returncode=2)
        if out is not None:
            Path(out).mkdir(parents=True, exist_ok=True)
        context = ConvertContext(site_url=site_url)
        unreadable = []
        for name in files:
            try:
                storage = Path(name).read_bytes().decode("utf-8", errors="replace")
            except OSError as e:
                unreadable.append(f"{name} ({e.strerror or e})")
                continue
            result = convert(storage, context)
            for warning in result.warnings:
                self.stderr.write(f"{name}: {warning}")
            if out is None:
                self.stdout.write(result.markdown, ending="")
            else:
                Path(out, Path(name).stem + ".md").write_text(result.markdown, encoding="utf-8")
        if unreadable:
            raise CommandError(f"could not read {', '.join(unreadable)}")
