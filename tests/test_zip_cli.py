"""llmcompression-zip's command line with the manners of xz: names, standard input and output,
existing files, symbolic links, FIFOs, Ctrl-C; every refusal before the model loads, with the
exit status and the message a user sees, and nothing left behind."""

import io
import os
import signal
import stat
import subprocess
import sys
import threading
import time

import pytest

from opencompass_llmcompression.zip import cli
from opencompass_llmcompression.zip.container import unpack

TEXT = 'The quick brown fox jumps over the lazy dog.\r\nA second line, with ünïcode.\n'
FAST = ['--block-size', '16', '--stride', '5', '-q']
COMMAND = [sys.executable, '-m', 'opencompass_llmcompression.zip']


def zip_main(*args):
    return cli.main([str(a) for a in args])


@pytest.fixture
def folder(tmp_path):
    source = tmp_path / 'in.txt'
    source.write_text(TEXT, encoding='utf-8', newline='')
    return tmp_path


def forbid_model(monkeypatch):
    """Any attempt to load the model fails the test: a refusal must come before it."""

    def refuse(*args, **kwargs):
        raise AssertionError('the model was loaded')

    monkeypatch.setattr(cli, 'load_model', refuse)


@pytest.fixture
def no_model(monkeypatch):
    forbid_model(monkeypatch)


def listing(path):
    return sorted(os.listdir(path))


class Stdio:
    """Standard input with ``data`` and a captured standard output, neither a terminal."""

    def __init__(self, data=b''):
        self.stdin = io.TextIOWrapper(io.BytesIO(data))
        self.stdout = io.TextIOWrapper(io.BytesIO(), write_through=True)

    def output(self):
        return self.stdout.buffer.getvalue()


@pytest.fixture
def stdio(monkeypatch):
    def use(data=b''):
        streams = Stdio(data)
        monkeypatch.setattr(sys, 'stdin', streams.stdin)
        monkeypatch.setattr(sys, 'stdout', streams.stdout)
        return streams

    return use


def test_default_names_remove_the_input_and_keep_its_permissions(folder, tiny_model_dir, capsys):
    source = folder / 'in.txt'
    os.chmod(source, 0o640)
    os.utime(source, ns=(1_000_000_000_000_000_000, 1_500_000_000_123_456_789))
    assert zip_main('compress', '--model', tiny_model_dir, *FAST, source) == 0
    assert listing(folder) == ['in.txt.lmz']  # as xz: the input goes once the output is whole
    assert stat.S_IMODE(os.stat(folder / 'in.txt.lmz').st_mode) == 0o640
    assert os.stat(folder / 'in.txt.lmz').st_mtime_ns == 1_500_000_000_123_456_789
    assert 'output bytes      ' in capsys.readouterr().out
    assert zip_main('decompress', '--model', tiny_model_dir, '-q', folder / 'in.txt.lmz') == 0
    assert listing(folder) == ['in.txt']
    assert source.read_bytes() == TEXT.encode()
    assert stat.S_IMODE(os.stat(source).st_mode) == 0o640


def test_keep_and_an_explicit_output_keep_the_input(folder, tiny_model_dir):
    source = folder / 'in.txt'
    assert zip_main('compress', '--model', tiny_model_dir, *FAST, '-k', source) == 0
    assert listing(folder) == ['in.txt', 'in.txt.lmz']
    assert (
        zip_main('decompress', '--model', tiny_model_dir, '-q', folder / 'in.txt.lmz', folder / 'back.txt')
        == 0
    )
    assert listing(folder) == ['back.txt', 'in.txt', 'in.txt.lmz']
    assert (folder / 'back.txt').read_bytes() == TEXT.encode()


def test_an_existing_output_is_refused_without_force(folder, tiny_model_dir, no_model, capsys):
    (folder / 'in.txt.lmz').write_bytes(b'precious')
    assert zip_main('compress', '--model', tiny_model_dir, *FAST, folder / 'in.txt') == 1
    assert (
        capsys.readouterr().err
        == f'llmcompression-zip: {folder / "in.txt.lmz"}: File exists (-f to overwrite it)\n'
    )
    assert (
        zip_main('compress', '--model', tiny_model_dir, *FAST, folder / 'in.txt', folder / 'in.txt.lmz') == 1
    )
    assert (folder / 'in.txt.lmz').read_bytes() == b'precious'
    assert listing(folder) == ['in.txt', 'in.txt.lmz']


def test_force_replaces_an_existing_output_and_a_symbolic_link_there(folder, tiny_model_dir):
    """As ``xz -f``: the link itself is replaced by the output, its target is untouched."""
    (folder / 'other').write_bytes(b'linked')
    os.symlink('other', folder / 'in.txt.lmz')
    assert zip_main('compress', '--model', tiny_model_dir, *FAST, '-k', folder / 'in.txt') == 1
    assert zip_main('compress', '--model', tiny_model_dir, *FAST, '-k', '-f', folder / 'in.txt') == 0
    assert not os.path.islink(folder / 'in.txt.lmz')
    assert (folder / 'other').read_bytes() == b'linked'
    unpack((folder / 'in.txt.lmz').read_bytes())
    assert listing(folder) == ['in.txt', 'in.txt.lmz', 'other']


def test_the_output_cannot_be_the_input(folder, tiny_model_dir, no_model, capsys):
    source = folder / 'in.txt'
    os.symlink('in.txt', folder / 'alias')
    for target in (source, folder / 'alias', folder / '.' / 'in.txt'):
        for force in ([], ['-f']):
            assert zip_main('compress', '--model', tiny_model_dir, *FAST, *force, source, target) == 1
            assert 'the output is the input file; refusing to overwrite it' in capsys.readouterr().err
    assert source.read_bytes() == TEXT.encode()
    assert listing(folder) == ['alias', 'in.txt']


@pytest.mark.parametrize(
    'command, name, message',
    [
        ('compress', 'in.txt.lmz', "File already has `.lmz' suffix, skipping"),
        ('decompress', 'in.txt', 'Filename has an unknown suffix, skipping'),
        ('decompress', '.lmz', 'Filename has an unknown suffix, skipping'),
    ],
)
def test_names_xz_would_skip_are_a_warning(command, name, message, folder, tiny_model_dir, no_model, capsys):
    (folder / name).write_bytes(b'x')
    before = listing(folder)
    assert zip_main(command, '--model', tiny_model_dir, '-q', folder / name) == 2
    assert capsys.readouterr().err == f'llmcompression-zip: {folder / name}: {message}\n'
    assert listing(folder) == before


def test_a_symbolic_link_input_is_skipped_unless_forced_or_written_elsewhere(folder, tiny_model_dir, capsys):
    os.symlink('in.txt', folder / 'link')
    assert zip_main('compress', '--model', tiny_model_dir, *FAST, folder / 'link') == 2
    assert 'link: Is a symbolic link, skipping' in capsys.readouterr().err
    assert listing(folder) == ['in.txt', 'link']
    assert (
        zip_main('compress', '--model', tiny_model_dir, *FAST, folder / 'link', folder / 'out.lmz') == 0
    )  # an explicit output reads through the link
    assert zip_main('compress', '--model', tiny_model_dir, *FAST, '-f', folder / 'link') == 0
    assert listing(folder) == ['in.txt', 'link.lmz', 'out.lmz']  # as xz -f: the link goes


@pytest.mark.parametrize(
    'args, message',
    [
        (['--threads', '0'], 'threads must be between 1 and 255, got 0'),
        (['--threads', '256'], 'threads must be between 1 and 255, got 256'),
        (['--segments', '0'], 'segments must be between 1 and 65535, got 0'),
        (['--stride', '20'], 'stride (20) is larger than block_size (16)'),
        (['--block-size', '0'], 'block_size must be a positive integer, got 0'),
        (
            ['--block-size', '4096', '--stride', '5'],
            '--block-size 4096 is longer than the model\'s context of 2048 tokens',
        ),
    ],
)
def test_bad_options_are_refused_before_the_model_loads(
    args, message, folder, tiny_model_dir, no_model, capsys
):
    assert zip_main('compress', '--model', tiny_model_dir, *FAST, *args, folder / 'in.txt') == 1
    err = capsys.readouterr().err
    assert err.startswith('llmcompression-zip: error: ') and message in err, err
    assert err.count('\n') == 1
    assert listing(folder) == ['in.txt']


def test_usage_errors_exit_with_1_as_xz(folder, tiny_model_dir, capsys):
    with pytest.raises(SystemExit) as stop:
        zip_main('compress', '--model', tiny_model_dir, '--bogus', folder / 'in.txt')
    assert stop.value.code == 1
    assert 'unrecognized arguments: --bogus' in capsys.readouterr().err
    with pytest.raises(SystemExit) as stop:
        zip_main('compress', '--help')
    assert stop.value.code == 0
    assert 'write the compressed file to standard output' in capsys.readouterr().out


@pytest.mark.parametrize('case', ['missing input', 'directory input', 'missing folder', 'directory output'])
def test_input_and_output_are_checked_before_the_model_loads(case, folder, tiny_model_dir, no_model, capsys):
    source, target = folder / 'in.txt', folder / 'out.lmz'
    status, message = 1, None
    if case == 'missing input':
        source, message = folder / 'nothing.txt', f'{folder / "nothing.txt"}: No such file'
    elif case == 'directory input':
        source, status, message = folder, 2, f'{folder}: Is a directory, skipping'
    elif case == 'missing folder':
        target = folder / 'no' / 'out.lmz'
        message = f'{target}: cannot write in the folder {folder / "no"}: No such file'
    else:
        (folder / 'sub').mkdir()
        target, message = folder / 'sub', f'{folder / "sub"}: Is a directory'
    before = listing(folder)
    assert zip_main('compress', '--model', tiny_model_dir, *FAST, source, target) == status
    err = capsys.readouterr().err
    assert err.startswith(f'llmcompression-zip: {message}'), err
    assert listing(folder) == before


PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 24, 1, 2  # <linux/prctl.h>, capability.h


def without_root_powers():
    """For ``preexec_fn``: the child stays root (the interpreter may live in root's home, which
    no other user can enter), but without the capabilities that let root ignore permission
    bits (DAC override, DAC read and search), so a folder without write permission refuses
    it as it refuses any user. They are taken out of the bounding set, which at ``exec``
    becomes root's capabilities."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), 'prctl(PR_CAPBSET_DROP) failed')


def run_unprivileged(args, **options):
    """The command line in its own process with no power to write where permissions forbid
    it: as it is when the tests do not run as root, else ``without_root_powers``."""
    if os.geteuid() != 0:
        return subprocess.run(COMMAND + args, capture_output=True, text=True, **options)
    if not sys.platform.startswith('linux'):
        pytest.skip('root, and no way here to take away its power to write anywhere')
    try:
        return subprocess.run(
            COMMAND + args, capture_output=True, text=True, preexec_fn=without_root_powers, **options
        )
    except subprocess.SubprocessError as err:  # the child could not drop them (no CAP_SETPCAP)
        pytest.skip(f'root, and its capabilities cannot be dropped here: {err}')


@pytest.fixture
def config_and_tokenizer_only(tiny_model_dir, tmp_path):
    """The tiny model's folder without its weights: a command that tried to load the model
    would fail with another message."""
    import shutil

    folder = tmp_path / 'no-weights'
    shutil.copytree(tiny_model_dir, folder, ignore=shutil.ignore_patterns('*.safetensors', '*.bin'))
    return str(folder)


@pytest.mark.parametrize('command', ['compress', 'decompress'])
def test_a_read_only_folder_is_refused_before_the_model_loads(
    command, folder, tiny_model_dir, config_and_tokenizer_only
):
    """A real read-only folder, the command line in its own process, as root too (without
    root's power to write anywhere): exit 1, the message a user sees, nothing written, the
    input kept. ``decompress IN.lmz`` writes ``IN`` next to it, in the read-only folder."""
    read_only = folder / 'ro'
    read_only.mkdir()
    if command == 'compress':
        source, target = folder / 'in.txt', read_only / 'out.lmz'
        args = ['compress', '--model', config_and_tokenizer_only, *FAST, str(source), str(target)]
    else:
        source, target = read_only / 'in.txt.lmz', read_only / 'in.txt'
        assert zip_main('compress', '--model', tiny_model_dir, *FAST, folder / 'in.txt', source) == 0
        args = ['decompress', '--model', config_and_tokenizer_only, '-q', str(source)]
    before, inside = listing(folder), listing(read_only)
    content = source.read_bytes()
    os.chmod(read_only, 0o555)
    try:
        run = run_unprivileged(args, cwd=folder, timeout=300)
    finally:
        os.chmod(read_only, 0o755)
    assert run.returncode == 1, run.stderr
    assert run.stderr.splitlines()[-1] == (
        f'llmcompression-zip: {target}: cannot write in the folder {read_only}: Permission denied'
    ), run.stderr
    assert 'Traceback' not in run.stderr and run.stdout == ''
    assert listing(folder) == before and listing(read_only) == inside
    assert source.read_bytes() == content


def test_a_folder_it_cannot_write_in_is_refused_before_the_model_loads(
    folder, tiny_model_dir, no_model, monkeypatch, capsys
):
    """The same, in this process, with the model's loader made to fail the test."""

    def denied(*args, **kwargs):
        raise PermissionError(13, 'Permission denied')

    monkeypatch.setattr(cli, 'AtomicFile', denied)
    assert zip_main('compress', '--model', tiny_model_dir, *FAST, folder / 'in.txt', folder / 'out.lmz') == 1
    assert capsys.readouterr().err == (
        f'llmcompression-zip: {folder / "out.lmz"}: cannot write in the folder {folder}: Permission denied\n'
    )
    assert listing(folder) == ['in.txt']


def test_standard_input_and_output(stdio, tiny_model_dir, capsys):
    data = TEXT.encode()
    streams = stdio(data)
    assert zip_main('compress', '--model', tiny_model_dir, *FAST) == 0
    blob = streams.output()
    unpack(blob)
    summary = capsys.readouterr().err  # the data on stdout, the summary on stderr
    assert f'input bytes       {len(data)}\n' in summary
    assert f'xz -9e            {cli.compressed_sizes(data)["xz -9e"]} bytes' in summary
    streams = stdio(blob)
    assert zip_main('decompress', '--model', tiny_model_dir, '-q', '-', '-') == 0
    assert streams.output() == data


def test_stdout_keeps_the_input_and_refuses_a_terminal(folder, stdio, tiny_model_dir, monkeypatch, capsys):
    streams = stdio()
    assert zip_main('compress', '--model', tiny_model_dir, *FAST, '-c', folder / 'in.txt') == 0
    blob = streams.output()
    assert listing(folder) == ['in.txt']
    (folder / 'in.txt.lmz').write_bytes(blob)
    streams = stdio()
    assert zip_main('decompress', '--model', tiny_model_dir, '-q', '--stdout', folder / 'in.txt.lmz') == 0
    assert streams.output() == TEXT.encode()
    assert listing(folder) == ['in.txt', 'in.txt.lmz']
    capsys.readouterr()
    monkeypatch.setattr(sys.stdout, 'isatty', lambda: True)
    assert zip_main('compress', '--model', tiny_model_dir, *FAST, '-c', folder / 'in.txt') == 1
    assert capsys.readouterr().err == (
        'llmcompression-zip: Compressed data cannot be written to a terminal (redirect it, or -f)\n'
    )


def test_a_fifo_is_read_once(folder, tiny_model_dir, capsys):
    """Read once, before the model loads: the figures are the input's and nothing hangs. A
    FIFO without an explicit output is skipped, as xz skips what is not a regular file."""
    fifo = folder / 'pipe'
    os.mkfifo(fifo)
    assert zip_main('compress', '--model', tiny_model_dir, *FAST, fifo) == 2
    assert 'pipe: Not a regular file, skipping' in capsys.readouterr().err
    data = (TEXT * 3).encode()

    def feed():
        with open(fifo, 'wb') as f:
            f.write(data)

    writer = threading.Thread(target=feed)
    writer.start()
    assert zip_main('compress', '--model', tiny_model_dir, *FAST, fifo, folder / 'out.lmz') == 0
    writer.join()
    printed = capsys.readouterr().out
    assert f'input bytes       {len(data)}\n' in printed
    assert f'zstd -22          {cli.compressed_sizes(data)["zstd -22"]} bytes' in printed
    assert listing(folder) == ['in.txt', 'out.lmz', 'pipe']


def test_ctrl_c_leaves_nothing(folder, tiny_model_dir, monkeypatch, capsys):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, 'compress_bytes', interrupted)
    assert zip_main('compress', '--model', tiny_model_dir, *FAST, folder / 'in.txt') == 130
    assert capsys.readouterr().err == 'llmcompression-zip: Interrupted; no output was written\n'
    assert listing(folder) == ['in.txt']


@pytest.mark.slow  # over 10 s on 2 cores
def test_a_pipeline_and_ctrl_c_in_real_processes(folder, tiny_model_dir):
    """``compress < IN | decompress > OUT``; then SIGINT while coding: exit 130, one line on
    stderr, no file but the input."""
    pipeline = (
        f'{" ".join(COMMAND)} compress --model {tiny_model_dir} -q < in.txt | '
        f'{" ".join(COMMAND)} decompress --model {tiny_model_dir} -q - > back.txt'
    )
    run = subprocess.run(pipeline, shell=True, cwd=folder, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert (folder / 'back.txt').read_bytes() == TEXT.encode()
    assert 'SHA-256 checked' in run.stderr and 'output bytes' in run.stderr
    (folder / 'back.txt').unlink()
    (folder / 'long.txt').write_text(TEXT * 400)
    # SIGINT as a terminal sends it, even when this run is a background job that ignores it
    # (a Python started with SIGINT ignored installs no KeyboardInterrupt handler)
    process = subprocess.Popen(
        COMMAND + ['compress', '--model', tiny_model_dir, '-q', 'long.txt'],
        cwd=folder,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.time() + 120
    while time.time() < deadline and not any(n.endswith('.tmp') for n in os.listdir(folder)):
        time.sleep(0.05)
    time.sleep(1.5)  # the model loads, coding starts
    process.send_signal(signal.SIGINT)
    err = process.communicate(timeout=120)[1]
    assert process.returncode == 130, err
    assert err.splitlines()[-1].startswith('llmcompression-zip: Interrupted')
    assert 'Traceback' not in err
    assert listing(folder) == ['in.txt', 'long.txt']


@pytest.mark.parametrize(
    'changes, message',
    [
        (dict(threads=0), 'invalid header: threads = 0, outside its legal range (1..255)'),
        (dict(tokens=2**40, size=2**41), 'invalid header: tokens = 1099511627776, more than a payload of'),
        (dict(block_size=4096), "windows of 4096 tokens are longer than the model's context"),
        (dict(prefix=2, tokens=30), '2 special tokens before the text and 0 after it'),
        (dict(version=7), 'format version 7; this program reads versions 1 and 2'),
    ],
    ids=['threads', 'tokens', 'block size', 'prefix', 'version'],
)
def test_a_crafted_file_is_refused_before_the_model_loads(
    changes, message, folder, tiny_model_dir, monkeypatch, capsys
):
    from test_zip import craft

    assert zip_main('compress', '--model', tiny_model_dir, *FAST, folder / 'in.txt', folder / 'good.lmz') == 0
    forbid_model(monkeypatch)
    crafted = folder / 'in.lmz'
    crafted.write_bytes(craft((folder / 'good.lmz').read_bytes(), **changes))
    capsys.readouterr()
    assert zip_main('decompress', '--model', tiny_model_dir, '-q', crafted) == 1
    err = capsys.readouterr().err
    assert err.startswith('llmcompression-zip: error: ') and message in err, err
    assert err.count('\n') == 1
    assert listing(folder) == ['good.lmz', 'in.lmz', 'in.txt']


def test_a_damaged_file_is_refused_and_kept(folder, tiny_model_dir, no_model, capsys):
    (folder / 'in.lmz').write_bytes(b'\x89LMZ\x01' + bytes(199))
    assert zip_main('decompress', '--model', tiny_model_dir, '-q', folder / 'in.lmz') == 1
    assert capsys.readouterr().err == (
        'llmcompression-zip: error: corrupted file: its CRC-32 '
        'does not match its contents, and its header announces '
        '119 bytes where the file has 204: it was truncated or '
        'had bytes added, or its header is damaged\n'
    )
    assert listing(folder) == ['in.lmz', 'in.txt']


def test_the_summary_names_the_segments_used_and_the_escaped_bytes(folder, tiny_model_dir, capsys):
    from opencompass_llmcompression.zip.coder import segment_groups

    (folder / 'gs1.txt').write_bytes(b'(01)09501101530003\x1d(17)140704\x1d(10)AB-123\n')
    assert zip_main('compress', '--model', tiny_model_dir, *FAST, '--segments', '50', folder / 'gs1.txt') == 0
    printed = capsys.readouterr().out
    tokens = int(printed.split('tokens')[1].split()[0])
    used = sum(len(firsts) for firsts, _ in segment_groups(tokens, 50))
    assert used < 50 and f'bits in {used} segments (of 50 asked for)' in printed
    assert 'escaped bytes     2 in 2 spans' in printed
    assert zip_main('decompress', '--model', tiny_model_dir, '-q', folder / 'gs1.txt.lmz') == 0
    assert (folder / 'gs1.txt').read_bytes().count(b'\x1d') == 2


def test_hard_links_and_c_with_an_output(folder, tiny_model_dir, no_model, capsys):
    os.link(folder / 'in.txt', folder / 'twin.txt')
    assert zip_main('compress', '--model', tiny_model_dir, *FAST, folder / 'in.txt') == 2
    assert 'in.txt: Input file has more than one hard link, skipping' in capsys.readouterr().err
    assert (
        zip_main('compress', '--model', tiny_model_dir, *FAST, '-c', folder / 'in.txt', folder / 'out.lmz')
        == 1
    )
    assert capsys.readouterr().err == (
        f'llmcompression-zip: -c writes to standard output: give no OUT (got {folder / "out.lmz"})\n'
    )
    assert listing(folder) == ['in.txt', 'twin.txt']


def test_a_file_from_another_cpu_is_refused_before_the_model_loads_unless_forced(
    folder, tiny_model_dir, monkeypatch, capsys
):
    from dataclasses import replace

    from opencompass_llmcompression.zip.container import pack

    assert zip_main('compress', '--model', tiny_model_dir, *FAST, folder / 'in.txt') == 0
    header, payload = unpack((folder / 'in.txt.lmz').read_bytes())
    (folder / 'in.txt.lmz').write_bytes(pack(replace(header, software=b'\0' * 8), payload))
    with monkeypatch.context() as patched:
        forbid_model(patched)
        assert zip_main('decompress', '--model', tiny_model_dir, '-q', folder / 'in.txt.lmz') == 1
    err = capsys.readouterr().err
    assert (
        err.startswith(
            'llmcompression-zip: error: the file was compressed with other software or on another kind of CPU'
        )
        and '(-f;' in err
    )
    assert listing(folder) == ['in.txt.lmz']
    assert zip_main('decompress', '--model', tiny_model_dir, '-q', '-f', folder / 'in.txt.lmz') == 0
    assert listing(folder) == ['in.txt']
    assert (folder / 'in.txt').read_bytes() == TEXT.encode()
