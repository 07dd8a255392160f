"""`python -m cnnkit` runs the command line."""

import sys

from cnnkit.cli import main

sys.exit(main())
