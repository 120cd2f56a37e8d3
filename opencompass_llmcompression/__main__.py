import sys

from .paper_cli import main

if __name__ == '__main__':  # vLLM's engine starts processes that import this module again
    sys.exit(main())
