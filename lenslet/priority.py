"""The CPU priority of lenslet's background work: the worker and the thumbnail processes it starts run below
the web processes, so people browsing are answered first (LENSLET_WORKER_NICE). Not the tree's I/O: a process
tunes itself through /proc."""

import logging
import os
import time

log = logging.getLogger("lenslet")


def run_below_people(nice):
    """Run the worker, and the thumbnail processes it starts (they inherit it), `nice` steps of CPU priority below
    the web processes, so a page is answered first while the worker indexes, rebuilds the rollup or makes
    thumbnails; on an idle machine it runs as fast as ever.

    Its session's too: the worker runs in a session of its own (service/supervisor.py), and where the kernel
    groups processes by session (autogroup, on by default in Debian and Ubuntu) it shares the CPU between
    sessions first, by the session's nice: the worker's session weighed as much as all web processes together,
    whatever the worker's own nice. Lowering one's priority needs no privilege. (Linux gives each thread its
    own nice: this runs before the worker starts any.)"""
    if nice <= 0:
        return
    try:
        os.nice(nice)
    except OSError as ex:
        log.warning("cannot lower the worker's CPU priority: %s", ex)
    if os.getsid(0) != os.getpid():
        return  # started in someone's session (a shell's): that session's priority is not the worker's to change
    for _ in range(3):
        try:
            with open("/proc/self/autogroup", "w") as group:
                group.write(str(nice))
            return
        except FileNotFoundError:
            return  # a kernel without autogroup: the process's own nice is what counts
        except BlockingIOError:
            time.sleep(0.1)  # the kernel takes one change of a group's nice a tenth of a second, system-wide
        except OSError as ex:
            log.warning("cannot lower the CPU priority of the worker's session: %s", ex)
            return
