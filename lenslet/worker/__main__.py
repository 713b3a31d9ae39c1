"""Run the background worker: `python -m lenslet.worker`."""

from lenslet.worker.loop import main

raise SystemExit(main())
