"""The emulator's clock: one scale for the waits the emulator models.

19. The emulator's clock. TRADING_DR_CLOCK_SCALE (default 1) multiplies every Wait state and
    every retry interval of an executing state machine, and the durations of item 17, so a
    runbook whose bounded waits add up to minutes runs in seconds with its definition unchanged.

Item 17's durations (item 46's TRADING_DR_FAILOVER_SECONDS and TRADING_DR_SWITCHOVER_SECONDS)
and item 47's rebuild (TRADING_DR_REBUILD_SECONDS) are in `rds.py`, which scales them with
CLOCK_SCALE from here; so does item 45's evaluation window of a CloudWatch alarm's data stream,
in `route53.py`.
"""

import os
import time as _time

from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl
from moto.stepfunctions.parser.asl.component.state.wait.wait_function import wait_function

from .patch import patch

CLOCK_SCALE = float(os.environ.get("TRADING_DR_CLOCK_SCALE", "1"))


def _scaled_wait_interval(self, env, wait_seconds):
    if wait_seconds > 0:
        env.program_state_event.wait(wait_seconds * CLOCK_SCALE)


class _ScaledTime:
    """The `time` module as the retrier sees it: sleeps on the emulator's clock."""

    def __getattr__(self, name):
        return getattr(_time, name)

    @staticmethod
    def sleep(seconds):
        _time.sleep(seconds * CLOCK_SCALE)


def install():
    patch(wait_function.WaitFunction, "_wait_interval", _scaled_wait_interval)
    patch(retrier_decl, "time", _ScaledTime())
