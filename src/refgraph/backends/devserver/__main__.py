"""``python -m refgraph.backends.devserver``: start a dev server (see ``--help``)."""

import sys

from ._cli import main

if __name__ == "__main__":
    sys.exit(main())
