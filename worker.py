"""Run the lenslet background worker: `python worker.py` (gunicorn starts it this way too).

The worker itself lives in lenslet/worker/; see process.py there.
"""

import sys

from lenslet.worker.loop import main

if __name__ == "__main__":
    sys.exit(main())
