"""``python -m evoproxy`` is the ``evoproxy`` command."""

import sys

from evoproxy.cli import main

sys.exit(main())
