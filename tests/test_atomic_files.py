"""The one writer of files and folders that appear whole or not at all."""

import os

import pytest

from opencompass_llmcompression.core.atomic_files import AtomicFile, atomic_folder, atomic_write


def test_a_file_appears_only_when_complete_and_an_error_leaves_nothing(tmp_path):
    target = tmp_path / 'out.json'
    with atomic_write(str(target), 'w', encoding='utf-8') as f:
        f.write('new')
        assert not target.exists() and os.path.basename(f.name).startswith('.out.json.')
    assert target.read_text() == 'new' and os.listdir(tmp_path) == ['out.json']
    with pytest.raises(KeyboardInterrupt), atomic_write(str(target), 'wb') as f:
        f.write(b'half')
        raise KeyboardInterrupt
    assert target.read_text() == 'new' and os.listdir(tmp_path) == ['out.json']


def test_created_as_open_creates_it(tmp_path):
    umask = os.umask(0o022)
    try:
        with atomic_write(str(tmp_path / 'f'), 'w') as f:
            f.write('x')
    finally:
        os.umask(umask)
    assert (tmp_path / 'f').stat().st_mode & 0o777 == 0o644


def test_without_replace_an_existing_file_is_kept(tmp_path):
    target = tmp_path / 'out'
    file = AtomicFile(str(target), replace=False)
    target.write_text('appeared meanwhile')
    with pytest.raises(FileExistsError):
        file.commit()
    file.discard()
    assert target.read_text() == 'appeared meanwhile' and os.listdir(tmp_path) == ['out']


def test_folders_keep_one_built_meanwhile_or_replace_one_left_incomplete(tmp_path):
    target = tmp_path / 'cache'
    with atomic_folder(str(target)) as tmp:
        (tmp_path / 'cache').mkdir()
        (tmp_path / 'cache' / 'theirs').write_text('')
        open(os.path.join(tmp, 'ours'), 'w').close()
    assert os.listdir(target) == ['theirs'] and os.listdir(tmp_path) == ['cache']
    with atomic_folder(str(target), replace=True) as tmp:
        open(os.path.join(tmp, 'ours'), 'w').close()
    assert os.listdir(target) == ['ours'] and os.listdir(tmp_path) == ['cache']
    with pytest.raises(RuntimeError), atomic_folder(str(tmp_path / 'other')):
        raise RuntimeError
    assert os.listdir(tmp_path) == ['cache']
