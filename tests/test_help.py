"""Every command line's --help shows each option's default (exit_codes.HelpFormatter), and never
a default that says nothing (None, False)."""

import importlib

import pytest

from opencompass_llmcompression.exit_codes import ArgumentParser

COMMANDS = {  # module: (arguments before --help, a line its help must hold)
    'summary_cli': ([], '--seed SEED           seed of the bootstrap (default: 0)'),
    'paper_cli': ([], '(default: 0)'),
    'configs_cli': (['install'], ''),
    'corpus.cli': ([], '(default: '),
    'zip.cli': (['compress'], '(default 1900)'),
    'demo': ([], ''),
    'collect.cli': ([], ''),
}


@pytest.mark.parametrize('module', sorted(COMMANDS))
def test_help_shows_the_defaults(module, capsys):
    before, line = COMMANDS[module]
    main = importlib.import_module(f'opencompass_llmcompression.{module}').main
    with pytest.raises(SystemExit) as stopped:
        main([*before, '--help'])
    assert stopped.value.code == 0
    text = capsys.readouterr().out
    assert line in text
    assert '(default: None)' not in text and '(default: False)' not in text and '(default: [])' not in text


def test_the_formatter_adds_a_default_only_where_the_help_has_none(capsys):
    parser = ArgumentParser(prog='x', description='kept\n  as written')
    parser.add_argument('--rate', type=float, default=0.5, help='a rate')
    parser.add_argument('--size', type=int, default=8, help='a size (default 8)')
    parser.add_argument('--name', help='a name')
    parser.add_argument('--quiet', action='store_true', help='say less')
    parser.add_argument('--zero', type=int, default=0, help='a count')
    text = parser.format_help()
    assert 'kept\n  as written' in text  # the description as written
    assert 'a rate (default: 0.5)' in text
    assert 'a size (default 8)\n' in text and 'a size (default 8) (default' not in text
    assert 'a name\n' in text and 'say less\n' in text
    assert 'a count (default: 0)' in text  # 0 is a default, unlike None and False
