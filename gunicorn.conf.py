"""gunicorn settings for running lenslet from this checkout: `gunicorn` in this folder.

They live in the package (lenslet/service/gunicorn_conf.py) so that `lenslet serve` finds
them from any folder; GUNICORN_CMD_ARGS or flags override any of them as usual.
"""

from lenslet.service.gunicorn_conf import *  # noqa: F401,F403 - gunicorn reads this module's names
