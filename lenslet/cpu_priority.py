"""Lower the CPU priority of background work so web requests come first."""

import logging
import os
import time

log = logging.getLogger("lenslet")


def run_below_people(nice):
    """Lower this process and its session `nice` steps; call before starting threads, which keep their own."""
    if nice <= 0:
        return
    try:
        os.nice(nice)
    except OSError as ex:
        log.warning("cannot lower the worker's CPU priority: %s", ex)
    if os.getsid(0) != os.getpid():
        return  # a shell's session is not ours to change
    # with autogroup the kernel shares the CPU between sessions first
    for _ in range(3):
        try:
            with open("/proc/self/autogroup", "w") as group:
                group.write(str(nice))
            return
        except FileNotFoundError:
            return
        except BlockingIOError:
            time.sleep(0.1)  # the kernel rate-limits these changes
        except OSError as ex:
            log.warning("cannot lower the CPU priority of the worker's session: %s", ex)
            return
