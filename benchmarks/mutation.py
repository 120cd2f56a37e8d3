"""Mutation score of the measurement's core modules: how many small changes to the code (a ``<``
made ``<=``, a constant changed, a call dropped) the tests notice.

Runs mutmut (requirements/mutation.txt) over each module with that module's own test files and
prints a table: module, mutants, killed, survived, equivalent, score. A benchmark, not part of
the test suite: a module takes minutes (metrics) to half an hour (text_check) on two shared
cores, and core/scoring_loop.py, whose tests score tiny models, some hours.

    python -m pip install -c requirements/constraints.txt -r requirements/mutation.txt
    python benchmarks/mutation.py                      # every module, one worker
    python benchmarks/mutation.py core/metrics.py      # one module
    python benchmarks/mutation.py --max-children 2 --survivors

Each module runs in its own scratch project, ``.mutation/<module>/`` of the checkout measured
(git ignores it): a copy of the package and tests/ and a pyproject.toml with a ``[tool.mutmut]``
section naming the module and its tests. mutmut copies that into ``mutants/``, rewrites the
module there and runs pytest against it, so the package imported is the copy's, whatever is
installed (PYTHONPATH points at ``mutants/`` for the programs the tests start, too). The Python
environment itself is only read.

Killed counts mutants that made a test fail or time out. Survived counts the rest: those the
tests let pass, those no listed test calls, and, after an interrupted run, those not tried.
Equivalent mutants (no input can tell them from the original) are listed, with the reason, in
benchmarks/mutation_equivalent.txt; they are taken out of the score,
score = killed / (mutants - equivalent). A listed mutant that was killed, or whose change is no
longer the one written there, is reported (exit status 1), so the list cannot go stale silently.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = 'opencompass_llmcompression'
EQUIVALENT_FILE = ROOT / 'benchmarks' / 'mutation_equivalent.txt'
# mutmut's command, from the environment running this script
MUTMUT = str(Path(sys.executable).parent / 'mutmut')

# module (under the package) -> its test files, and pytest arguments for them. The lists are
# lean on purpose: mutmut runs, for each mutant, every listed test that calls the mutated
# function, a fresh pytest session (fixtures and tiny models made again) each time.
MODULES = {
    'core/windows.py': (['tests/test_windows.py'], []),
    'core/scoring_loop.py': (['tests/test_scoring.py'], []),
    'core/metrics.py': (['tests/test_metrics.py', 'tests/test_evaluator.py'], []),
    'core/text_check.py': (['tests/test_text_check.py'], []),
    'corpus/dates.py': (['tests/test_corpus_dates.py', 'tests/test_corpus.py'], []),
    'corpus/code_cleaning.py': (['tests/test_corpus_code_cleaning.py', 'tests/test_corpus_code.py'], []),
    # the coverage test (200 bootstraps, 20 s) checks the method, not this code's details
    'report/intervals.py': (
        ['tests/test_intervals.py'],
        ['--deselect', 'tests/test_intervals.py::test_coverage_on_a_known_population'],
    ),
}
# mutmut's exit codes (mutmut.stats.status_by_exit_code): 1 and 3 a test failed, the timeouts
KILLED = {'killed', 'timeout'}


def scratch_folder(project: Path, module: str) -> Path:
    return project / '.mutation' / module.replace('/', '.').removesuffix('.py')


def toml_list(items: list) -> str:
    return '[' + ', '.join(f'"{item}"' for item in items) + ']'


def scratch_project(project: Path, module: str) -> Path:
    """A fresh copy of ``project``'s package and tests with mutmut's configuration for
    ``module`` (the module's test files that ``project`` has)."""
    folder = scratch_folder(project, module)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    ignore = shutil.ignore_patterns('__pycache__', '*.pyc')
    shutil.copytree(project / PACKAGE, folder / PACKAGE, ignore=ignore)
    shutil.copytree(project / 'tests', folder / 'tests', ignore=ignore)
    tests, extra = MODULES[module]
    tests = [t for t in tests if (project / t).exists()]
    config = (
        '\n[tool.mutmut]\n'
        f'source_paths = ["{PACKAGE}"]\n'
        f'only_mutate = ["{PACKAGE}/{module}"]\n'
        f'pytest_add_cli_args_test_selection = {toml_list(tests)}\n'
        f'pytest_add_cli_args = {toml_list(["-p", "no:cacheprovider", "-q", *extra])}\n'
    )
    (folder / 'pyproject.toml').write_text((project / 'pyproject.toml').read_text() + config)
    # made now, so that PYTHONPATH names a folder that exists when Python starts (a missing one
    # is cached as holding nothing, and the installed package would be imported instead)
    (folder / 'mutants').mkdir()
    return folder


def mutmut(folder: Path, *args: str) -> str:
    env = dict(os.environ, PYTHONPATH=str(folder / 'mutants'))
    command = [MUTMUT, *args]
    done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f'mutmut {" ".join(args)} failed in {folder}:\n{done.stdout}\n{done.stderr}')
    return done.stdout


def statuses(folder: Path) -> dict:
    """mutant name -> mutmut's status ('killed', 'survived', 'no tests', 'timeout', ...)."""
    found = {}
    for line in mutmut(folder, 'results', '--all', 'true').splitlines():
        name, sep, status = line.strip().rpartition(': ')
        if sep and name.startswith(PACKAGE):
            found[name] = status
    return found


def function_sources(folder: Path, module: str) -> dict:
    """Function name -> source of every function in mutmut's rewritten copy of ``module``: the
    original of each is ``<name>__mutmut_orig``, its mutants ``<name>__mutmut_<n>``."""
    path = folder / 'mutants' / PACKAGE / module
    source = path.read_text()
    return {
        node.name: ast.get_source_segment(source, node)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    }


def mutated_lines(sources: dict, name: str) -> list:
    """The lines mutant ``name`` adds to its function, stripped."""
    function = name.rpartition('.')[2]
    original = sources[function.rpartition('__mutmut_')[0] + '__mutmut_orig'].splitlines()[1:]
    mutant = sources[function].splitlines()[1:]
    return [line[2:].strip() for line in difflib.ndiff(original, mutant) if line.startswith('+ ')]


def read_equivalent(path: Path = EQUIVALENT_FILE) -> dict:
    """mutant name -> (its added line, the reason it is equivalent); format in the file's header."""
    listed = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.startswith('#'):
            continue
        parts = [part.strip() for part in line.split(' | ')]
        if len(parts) != 3 or not all(parts):
            sys.exit(f'{path}:{number}: expected "mutant name | added line | reason", got {line!r}')
        listed[parts[0]] = (parts[1], parts[2])
    return listed


def run_mutmut(project: Path, module: str, max_children: int) -> Path:
    """mutmut run over ``module`` of ``project`` in a fresh scratch folder, which it returns."""
    folder = scratch_project(project, module)
    print(f'# {module}: mutmut run in {folder}', file=sys.stderr, flush=True)
    env = dict(os.environ, PYTHONPATH=str(folder / 'mutants'))
    command = [MUTMUT, 'run', '--max-children', str(max_children)]
    log = folder / 'mutmut-run.log'
    with open(log, 'w') as out:
        done = subprocess.run(command, cwd=folder, env=env, stdout=out, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        sys.exit(f'mutmut run failed for {module}; its output: {log}')
    return folder


def measure(folder: Path, module: str, show_survivors: bool, equivalent: dict) -> dict:
    """The table's row of ``module`` from mutmut's results in ``folder``."""
    found = statuses(folder)
    killed = [n for n, s in found.items() if s in KILLED]
    alive = sorted(n for n, s in found.items() if s not in KILLED)
    row = {'module': module, 'mutants': len(found), 'killed': len(killed), 'equivalent': 0, 'survivors': []}
    problems, sources = [], function_sources(folder, module)
    for name in killed:
        if name in equivalent:
            problems.append(f'{name} is listed as equivalent but a test kills it')
    for name in alive:
        lines = mutated_lines(sources, name)
        if name in equivalent:
            if equivalent[name][0] not in lines:
                problems.append(f'{name}: listed change {equivalent[name][0]!r}, now {lines!r}')
            row['equivalent'] += 1
            continue
        row['survivors'].append((name, found[name], lines))
    row['problems'] = problems
    row['survived'] = len(row['survivors'])
    scored = row['mutants'] - row['equivalent']
    row['score'] = row['killed'] / scored if scored else 1.0
    if show_survivors:
        for name, status, _lines in row['survivors']:
            print(f'## {status}: {name}\n' + mutmut(folder, 'show', name))
    return row


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument(
        'modules', nargs='*', help=f'modules under {PACKAGE}/ (default: {", ".join(MODULES)})'
    )
    parser.add_argument('--max-children', type=int, default=1, help='mutants tested at once (default 1)')
    parser.add_argument('--survivors', action='store_true', help='print the diff of each surviving mutant')
    parser.add_argument(
        '--project',
        type=Path,
        default=ROOT,
        help='the checkout whose package and tests are measured, e.g. an older commit '
        '(`git archive <commit> | tar -x -C DIR`); default: this one',
    )
    parser.add_argument(
        '--no-run', action='store_true', help="tabulate the results of the last run again (mutmut's are kept)"
    )
    args = parser.parse_args(argv)
    unknown = [m for m in args.modules if m not in MODULES]
    if unknown:
        parser.error(f'unknown module(s) {unknown}; choose from {list(MODULES)}')
    equivalent = read_equivalent()
    rows = []
    for module in args.modules or MODULES:
        if args.no_run:
            folder = scratch_folder(args.project.resolve(), module)
        else:
            folder = run_mutmut(args.project.resolve(), module, args.max_children)
        rows.append(measure(folder, module, args.survivors, equivalent))
    header = f'| {"module":<24} | mutants | killed | survived | equivalent | score |'
    print(header + '\n' + re.sub('[^|]', '-', header))
    for r in rows:
        print(
            f'| {r["module"]:<24} | {r["mutants"]:>7} | {r["killed"]:>6} | {r["survived"]:>8} '
            f'| {r["equivalent"]:>10} | {r["score"]:>5.0%} |'
        )
    for r in rows:
        for name, status, lines in r['survivors']:
            print(f'{status}: {name}: {" / ".join(lines)}')
        for problem in r['problems']:
            print(f'equivalent list: {problem}')
    return 1 if any(r['problems'] for r in rows) else 0


if __name__ == '__main__':
    sys.exit(main())
