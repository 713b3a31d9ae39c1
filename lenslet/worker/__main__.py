"""Run the background worker: `python -m lenslet.worker`."""

import sys

from lenslet.worker.loop import main

sys.exit(main())
