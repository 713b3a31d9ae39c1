"""`python -m lenslet.worker`: run the background worker (gunicorn's supervisor starts it so)."""

import sys

from lenslet.worker.process import main

sys.exit(main())
