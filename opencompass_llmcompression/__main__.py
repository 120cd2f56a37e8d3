import sys

from .paper_cli import main

sys.exit(main())
