"""Conversion speed against plain markdownify: `python -m bench.convert [DIR]`, one JSON object on stdout.

Both run over the same inputs in the same process; `time_ratio` is our time over markdownify's (budget: 3).
Default inputs: the project's golden fixtures (tests/fixtures/convert/*.xhtml). `hostile`: seconds for inputs built
to be slow (deep nesting, tags and CDATA sections left open by the thousand): none may stall a worker (budget 5 s
each; before a red-team review found them, 20,000 nested elements took 16 s and grew with the square).
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
CODE_LEFT_OPEN = (
    '<ac:structured-macro ac:name="code"><ac:plain-text-body><![CDATA[x</ac:plain-text-body></ac:structured-macro>'
)
HOSTILE = {
    "nested_divs_20000": "<div>" * 20000 + "x" + "</div>" * 20000,
    "nested_lists_10000": "<ul><li>" * 10000 + "x" + "</li></ul>" * 10000,
    "open_tags_40000": "<p>" + "<b" * 40000 + "></p>",
    "cut_tags_100000": "<ac:a" * 100000 + ">",
    "open_cdata_8000": CODE_LEFT_OPEN * 8000,
}
HOSTILE_BUDGET_SECONDS = 5


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
    hostile = {name: round(best_time(convert, [page]), 2) for name, page in HOSTILE.items()}
    print(
        json.dumps(
            {
                "files": len(pages),
                "ours_pages_per_second": round(len(pages) / ours, 1),
                "markdownify_pages_per_second": round(len(pages) / theirs, 1),
                "time_ratio": round(ours / theirs, 2),
                "hostile": hostile,
                "checks": {
                    "hostile_seconds_le": [HOSTILE_BUDGET_SECONDS, max(hostile.values()) <= HOSTILE_BUDGET_SECONDS]
                },
            }
        )
    )


if __name__ == "__main__":
    main()
