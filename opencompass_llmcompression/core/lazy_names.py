"""Public names of a package loaded when first asked for (PEP 562), so that importing the
package costs nothing and pulls in no library that only some of its modules need."""

import importlib
import sys
from typing import Callable, Dict


def lazy_names(package: str, public: Dict[str, str]) -> Callable[[str], object]:
    """The module ``__getattr__`` of ``package``: each name of ``public`` (name -> the module
    that defines it, relative to ``package``) imported from that module when first asked for
    and then kept on the package. Any other name raises ``AttributeError``."""

    def __getattr__(name: str):
        if name not in public:
            raise AttributeError(f'module {package!r} has no attribute {name!r}')
        value = getattr(importlib.import_module(f'.{public[name]}', package), name)
        setattr(sys.modules[package], name, value)
        return value

    return __getattr__
