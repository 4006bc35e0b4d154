"""``python -m sim``: the same as the ``trustsim`` command (works without installing the package)."""

import sys

from .cli import main

sys.exit(main())
