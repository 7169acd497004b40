"""``python -m xlmrio``: the ``xlmrio`` command when its script folder is not on PATH."""
import sys

from xlmrio.cli import main

if __name__ == "__main__":
    sys.exit(main())
