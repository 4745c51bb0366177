"""Conversion speed against plain markdownify: `python -m bench.convert [DIR]`, one JSON object on stdout.

Both run over the same inputs in the same process; `time_ratio` is our time over markdownify's (budget: 3).
Default inputs: the project's golden fixtures (tests/fixtures/convert/*.xhtml).
"""

import json
import sys
import time
from pathlib import Path

from markdownify import markdownify

from confluence.convert import convert

SUFFIXES = {".xhtml", ".html", ".xml"}
DEFAULT_DIR = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "convert"
ROUNDS = 3


def storage_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix in SUFFIXES and p.is_file())


def best_time(fn, pages: list[str]) -> float:
    """The fastest of a few rounds, so a stray pause on the machine does not decide the ratio."""
    best = float("inf")
    for _ in range(ROUNDS):
        start = time.perf_counter()
        for page in pages:
            fn(page)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_DIR
    pages = [p.read_text(encoding="utf-8", errors="replace") for p in storage_files(root)]
    if not pages:
        sys.exit(f"no storage files under {root}")
    ours = best_time(convert, pages)
    theirs = best_time(markdownify, pages)
    print(
        json.dumps(
            {
                "files": len(pages),
                "ours_pages_per_second": round(len(pages) / ours, 1),
                "markdownify_pages_per_second": round(len(pages) / theirs, 1),
                "time_ratio": round(ours / theirs, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
