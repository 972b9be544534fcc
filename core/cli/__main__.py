"""`python -m core.cli …`, as the `tunedesk` script."""

import sys

from core.cli import main

sys.exit(main())
