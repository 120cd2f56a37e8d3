"""Checks on a loaded model that catch a wrong measurement before it is made.

``check_transformers_version``: a model folder saved by a newer transformers major than the
one loading it. transformers 5 keeps RoPE's base under ``rope_parameters`` in config.json;
transformers 4 reads ``rope_theta`` instead, finds none, and silently runs the model with its
class default (10000 for Llama, where SmolLM2 needs 100000): no error, every logit a little
off, a BPC about 3% wrong. The check names the fields it can tell are ignored and the fix.
"""

import logging
import re
from typing import Optional

from .logs import LOGGER

RELEASE_OF_ROPE_PARAMETERS = 5  # the transformers major that moved rope_theta there


def _major(version) -> Optional[int]:
    match = re.match(r'\s*(\d+)\.', str(version or ''))
    return int(match.group(1)) if match else None


def _field(config, name):
    return config.get(name) if isinstance(config, dict) else getattr(config, name, None)


def _ignored_fields(config, installed_major: int) -> list:
    """What the installed transformers ignores in this config, as far as one can tell."""
    rope = _field(config, 'rope_parameters')
    if not isinstance(rope, dict) or installed_major >= RELEASE_OF_ROPE_PARAMETERS:
        return []
    notes = []
    in_file, used = rope.get('rope_theta'), _field(config, 'rope_theta')
    if in_file is not None and used != in_file:
        using = (f'silently uses rope_theta {used}' if used is not None else
                 'reads `rope_theta`, which the file lacks, so the model\'s default applies')
        notes.append(f'`rope_parameters` (rope_theta {in_file} in the file): it {using}')
    rope_type = rope.get('rope_type', 'default')
    if rope_type != 'default' and not _field(config, 'rope_scaling'):
        notes.append(f'`rope_parameters.rope_type` ({rope_type!r}): it reads `rope_scaling`, '
                     'which is empty, so no RoPE scaling is applied')
    return notes


def check_transformers_version(config, logger: logging.Logger = LOGGER,
                               installed: Optional[str] = None) -> Optional[str]:
    """Warn when ``config`` (a model's config, or its config.json as a dict) was written by a
    newer transformers major than the installed one; silent when the majors agree or the file
    is older. Returns the message, or None.

    The message goes to ``logger`` as a warning; ``installed`` is the version loading the
    model (default: ``transformers.__version__``).
    """
    if installed is None:
        import transformers
        installed = transformers.__version__
    written = _field(config, 'transformers_version')
    file_major, installed_major = _major(written), _major(installed)
    if file_major is None or installed_major is None or file_major <= installed_major:
        return None
    name = _field(config, '_name_or_path') or _field(config, 'name_or_path')
    where = f'config.json of {name}' if name else 'The model\'s config.json'
    ignored = _ignored_fields(config, installed_major)
    if ignored:
        effect = ('It ignores ' + '; '.join(ignored) + '. The model runs, and every logit '
                  '(so the BPC) is wrong.')
        rope = _field(config, 'rope_parameters')
        theta = rope.get('rope_theta') if isinstance(rope, dict) else None
        resave = ('convert or save the model again from its source with transformers '
                  f'{installed} (loading this folder and saving it again keeps the wrong value)'
                  + (f', or set "rope_theta": {theta} in config.json' if theta is not None
                     else ''))
    else:
        effect = (f'Fields that transformers {file_major} added to config.json may be ignored '
                  'silently.')
        resave = f'save the model again from its source with transformers {installed}'
    message = (f'{where} was written by transformers {written} (its `transformers_version`), '
               f'a newer major than the installed transformers {installed}. {effect} Fix: '
               f'pip install "transformers>={file_major}", or {resave}.')
    logger.warning(message)
    return message
