"""`manage.py confluence_convert`: stdout for one file, DIR/<name>.md with --out, exit 1 on unreadable files."""

import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

PAGE = '<h1>Title</h1><p>Body with <ac:link><ri:page ri:content-title="Other" ri:space-key="ENG" /></ac:link>.</p>'


@pytest.fixture
def page(tmp_path):
    path = tmp_path / "page.xhtml"
    path.write_text(PAGE, encoding="utf-8")
    return path


def test_it_prints_one_file_to_stdout(page, capsys):
    call_command("confluence_convert", str(page), "--site-url", "https://example.atlassian.net")
    out = capsys.readouterr().out
    assert out == "# Title\n\nBody with [Other](https://example.atlassian.net/wiki/display/ENG/Other).\n"


def test_it_writes_each_file_to_the_out_directory(page, tmp_path, capsys):
    second = tmp_path / "second.html"
    second.write_text("<p>Second</p>", encoding="utf-8")
    out_dir = tmp_path / "out"
    call_command("confluence_convert", str(page), str(second), "--out", str(out_dir))
    assert (out_dir / "page.md").read_text(encoding="utf-8").startswith("# Title\n")
    assert (out_dir / "second.md").read_text(encoding="utf-8") == "Second\n"
    assert capsys.readouterr().out == ""


def test_it_sends_warnings_to_stderr(tmp_path, capsys):
    broken = tmp_path / "broken.xhtml"
    broken.write_text("<p>cut <ac:structured-macro ac:name=", encoding="utf-8")
    call_command("confluence_convert", str(broken), "--out", str(tmp_path / "out"))
    assert "broken.xhtml: input ends inside a tag" in capsys.readouterr().err
    assert (tmp_path / "out" / "broken.md").exists()


def test_it_fails_naming_the_file_it_could_not_read(page, tmp_path):
    missing = tmp_path / "missing.xhtml"
    with pytest.raises(CommandError, match=r"missing\.xhtml") as raised:
        call_command("confluence_convert", str(page), str(missing), "--out", str(tmp_path / "out"))
    assert raised.value.returncode == 1
    # The readable file was still converted.
    assert (tmp_path / "out" / "page.md").exists()


def test_it_exits_1_from_the_command_line(tmp_path):
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run(
        [sys.executable, "manage.py", "confluence_convert", str(tmp_path / "nope.xhtml")],
        cwd=root, capture_output=True, text=True, env={"DEBUG": "1", "PATH": ""}, check=False,
    )  # fmt: skip
    assert proc.returncode == 1
    assert "nope.xhtml" in proc.stderr
