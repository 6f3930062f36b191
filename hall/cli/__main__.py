"""``python -m hall.cli``: the ``hall`` command, as the console script runs it."""

import sys

from hall.cli import main

if __name__ == "__main__":
    sys.exit(main())
