"""The exit statuses of every command line, as xz's.

    OK           0    done
    ERROR        1    nothing (more) done: a mistake in the command or its input, named with
                      its fix, or a failure (a file that cannot be read or written)
    WARNING      2    done, but something was skipped or refused, and said so
    INTERRUPTED  130  stopped by Ctrl-C (what a shell reports for a process the signal ended)

A usage error (an unknown or missing option, a value argparse refuses) is an ERROR too:
argparse's own status is 2, which here would claim that something was done. ``ArgumentParser``
is argparse's with that one change; its subcommands inherit it.
"""

import argparse
import sys

OK, ERROR, WARNING, INTERRUPTED = 0, 1, 2, 130


class ArgumentParser(argparse.ArgumentParser):
    """argparse's parser, whose usage errors exit with ERROR."""

    def error(self, message):
        self.print_usage(sys.stderr)
        self.exit(ERROR, f'{self.prog}: error: {message}\n')
