"""``flask i18n sample`` and ``flask i18n check``: what translators run."""
from __future__ import annotations

from pathlib import Path

import click

from i18n import LANGUAGES


@click.group("i18n")
def i18n_group() -> None:
    """Translation tools: a sample to review, the glossary check."""


@i18n_group.command("sample")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="File to write the sample to.")
@click.option("--lang", "langs", multiple=True, type=click.Choice(sorted(LANGUAGES)),
              help="Only this language (repeatable); every language by default.")
def sample(out: Path, langs: tuple[str, ...]) -> None:
    """Write every screen and SMS kind, in every language, with long names and large amounts."""
    from cli.i18n_sample import render

    text = render(list(langs) or None)
    out.write_text(text, encoding="utf-8")
    click.echo(f"wrote {out} ({len(text.splitlines())} lines, {', '.join(langs or LANGUAGES)})")


@i18n_group.command("check")
@click.option("--lang", "langs", multiple=True, type=click.Choice(sorted(set(LANGUAGES) - {"en"})))
def check(langs: tuple[str, ...]) -> None:
    """Check each catalog against its glossary (i18n/glossary/<lang>.toml); exit 1 on any problem.

    Without --lang the source strings are checked too: translator comments where a concept collides,
    and no whole date inside a sentence (a date follows a label: "Date: {date}").
    """
    from i18n.terms import check as check_catalog
    from i18n.terms import check_comments, check_dates, languages

    problems = [p for lang in (langs or languages()) for p in check_catalog(lang)]
    if not langs:
        problems += check_comments() + check_dates()
    for p in problems:
        click.echo(str(p))
    if problems:
        raise click.ClickException(f"{len(problems)} glossary problem(s)")
    click.echo("every catalog follows its glossary")


COMMANDS = [i18n_group]
