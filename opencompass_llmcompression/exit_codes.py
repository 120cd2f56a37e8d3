"""The exit statuses of every command line, as xz's.

    OK           0    done
    ERROR        1    nothing (more) done: a mistake in the command or its input, named with
                      its fix, or a failure (a file that cannot be read or written)
    WARNING      2    done, but something was skipped or refused, and said so
    INTERRUPTED  130  stopped by Ctrl-C (what a shell reports for a process the signal ended)

A usage error (an unknown or missing option, a value argparse refuses) is an ERROR too:
argparse's own status is 2, which here would claim that something was done. ``ArgumentParser``
is argparse's with that change, and its ``--help`` keeps descriptions as written and shows each
option's default (``HelpFormatter``); its subcommands inherit both.
"""

import argparse
import sys

OK, ERROR, WARNING, INTERRUPTED = 0, 1, 2, 130


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions and epilogs as written; after each option's help, ``(default: X)``, unless
    the option has no default worth saying (None, False, empty) or its help already names one."""

    def _get_help_string(self, action):
        text = action.help or ''
        default = action.default
        if (
            default is None
            or default is False
            or default is argparse.SUPPRESS
            or (isinstance(default, (list, tuple, str)) and not default)
            or 'default' in text
            or (not action.option_strings and action.nargs not in (argparse.OPTIONAL, argparse.ZERO_OR_MORE))
        ):
            return text
        return f'{text} (default: %(default)s)'


class ArgumentParser(argparse.ArgumentParser):
    """argparse's parser, whose usage errors exit with ERROR and whose help shows defaults."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault('formatter_class', HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(ERROR, f'{self.prog}: error: {message}\n')
