"""`python -m lenslet.worker`: run the background worker (gunicorn's supervisor starts it so)."""

import sys

from .process import main

sys.exit(main())
