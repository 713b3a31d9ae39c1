"""Run the background worker: `python -m lenslet.worker`."""

import sys

from lenslet.worker.process import main

sys.exit(main())
