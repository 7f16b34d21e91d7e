"""``flask i18n sample`` writes every screen and SMS kind in every language; ``flask i18n check`` runs the glossary."""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

from cli.i18n_sample import PEOPLE
from i18n import LANGUAGES
from i18n.terms import LOCALE_DIR, read_catalog

if TYPE_CHECKING:
    from pathlib import Path

    from flask.testing import FlaskCliRunner


@pytest.mark.one_backend
def test_sample_renders_every_entry_in_every_language(runner: FlaskCliRunner, tmp_path: Path) -> None:
    out = tmp_path / "sample.txt"
    result = runner.invoke(args=["i18n", "sample", "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text("utf-8")
    sections = re.split(r"^===== (\w+) .*=====$", text, flags=re.M)[1:]
    by_lang = dict(zip(sections[::2], sections[1::2], strict=True))
    assert set(by_lang) == set(LANGUAGES)
    for lang, body in by_lang.items():
        name, group, _place, _currency = PEOPLE[lang]
        assert name in body and group in body, lang  # long names and group names, really filled in
        for kind in ("meeting reminder (self-help group", "meeting reminder (VSLA", "loan instalment due tomorrow",
                     "loan instalment overdue", "announcement", "home menu, member", "home menu, chair"):
            assert kind in body, (lang, kind)
        ids = {m.id if isinstance(m.id, str) else m.id[0]
               for m in read_catalog(LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po", lang) if m.id}
        shown = set(re.findall(r"^msgid: (.*)$", body, flags=re.M))
        assert ids <= shown, (lang, sorted(ids - shown)[:3])
        rendered = [line for line in body.splitlines() if line.startswith("  ")]
        assert not [line for line in rendered if re.search(r"\{\w*\}", line)], lang  # every placeholder filled
        assert "OVER 2 SEGMENTS" not in "\n".join(rendered[:12]), lang  # the composed SMS fit their budget
    assert "saa 2 asubuhi (08:00)" in by_lang["sw"]


def test_sample_for_one_language(runner: FlaskCliRunner, tmp_path: Path) -> None:
    out = tmp_path / "sv.txt"
    result = runner.invoke(args=["i18n", "sample", "--out", str(out), "--lang", "sv"])
    assert result.exit_code == 0, result.output
    text = out.read_text("utf-8")
    assert "===== sv Svenska =====" in text and "===== ru " not in text and "Kassalådan" in text


def test_check_passes_on_the_catalogs(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["i18n", "check"])
    assert result.exit_code == 0, result.output
    assert "every catalog follows its glossary" in result.output
