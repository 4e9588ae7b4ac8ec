"""Faults injected from the TRADING_DR_FAULTS file: the reader every fault consults, and the
faults any API call can meet (throttling, refused calls, unreachable regions).

20. Faults for the runbooks, from the same TRADING_DR_FAULTS file, read on every request:
    - {"throttle": {"<Action>": N}}: the first N calls of that API action fail with a throttling
      error (Throttling for query APIs, ThrottlingException for JSON and CBOR ones), as AWS
      throttles;
    - {"fail": {"<Action>": ["<code>", "<message>"]}}: every call of that action fails so;
    - {"promotion_never_completes": true}: a failover or switchover starts and never finishes;
    - {"service_never_steady": true}: an ECS service's running count stays where it was when
      its desired count changes (tasks that never become healthy).
    Without that fault a service's running count follows its desired count, from creation on
    (moto starts every service with none running).
    - {"unreachable": ["<region>"]}: a regional outage as a client sees it: every request
      signed for that region gets no answer (it is held 30 s, then dropped).
    - {"unhealthy_endpoints": ["<fqdn>", ...]}: the endpoints Route 53's health checkers find
      down: an HTTP, HTTPS or TCP health check whose FullyQualifiedDomainName (or IPAddress) is
      named is unhealthy (item 45, `route53.py`); every other endpoint answers.

Where the other faults are applied: item 16 (a rejected change set, a busy stack) in
`cloudformation.py`; `promotion_never_completes` in `rds.py`, with item 17's failover and
switchover; `service_never_steady`, and a service's running count following its desired count,
in `ecs.py`; `unhealthy_endpoints` in `route53.py`, with item 45's health checks; throttling,
refused calls and unreachable regions of CloudWatch's CBOR protocol (item 31), which has its own
dispatch, in `cloudwatch.py`.
"""

import json
import os
import threading
import time as _time

from moto.core.exceptions import ServiceException
from moto.core.responses import BaseResponse
from moto.core.utils import camelcase_to_underscores

from .patch import original, patch

_faults_cache = {"key": None, "faults": {}}


def read():
    """The fault file's content. It is consulted on every request (item 20), so it is parsed
    again only when the file changes."""
    path = os.environ.get("TRADING_DR_FAULTS")
    try:
        stat = os.stat(path) if path else None
    except FileNotFoundError:
        stat = None
    if stat is None:
        return {}
    key = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
    if _faults_cache["key"] != key:
        with open(path, encoding="utf-8") as f:
            text = f.read().strip()
        _faults_cache["faults"] = json.loads(text) if text else {}
        _faults_cache["key"] = key
    return _faults_cache["faults"]


_throttled = {}
_throttled_lock = threading.Lock()


def injected_error(action):
    """The (code, message) an injected fault makes `action` fail with, if any."""
    faults = read()
    failure = faults.get("fail", {}).get(action)
    if failure:
        return failure[0], failure[1]
    limit = faults.get("throttle", {}).get(action, 0)
    with _throttled_lock:
        done = _throttled.get(action, 0)
        if done < limit:
            _throttled[action] = done + 1
            return "Throttling", "Rate exceeded"
    return None


class _InjectedFault(ServiceException):
    """An error the fault file asks for; serialised with the called service's error model."""


def _unavailable(region):
    def fail():
        raise _InjectedFault("ServiceUnavailable", f"{region} is unreachable")

    return fail


def _call_action_with_faults(self):
    action = self._get_action()
    if action and self.region in read().get("unreachable", []):
        # No answer in time; the late one is an ordinary error, for a client long gone.
        _time.sleep(30)
        setattr(self, camelcase_to_underscores(action), _unavailable(self.region))
        return original(BaseResponse, "call_action")(self)
    error = injected_error(action) if action else None
    if error is not None:
        code, message = error
        content_type = (self.headers or {}).get("Content-Type", "")
        if code == "Throttling" and "x-www-form-urlencoded" not in content_type:
            code = "ThrottlingException"

        def fail():
            # moto serialises a ServiceException in the service's own protocol (query XML,
            # JSON, CBOR), as AWS answers.
            raise _InjectedFault(code, message)

        # The instance attribute shadows the action's method for this one request.
        setattr(self, camelcase_to_underscores(action), fail)
    return original(BaseResponse, "call_action")(self)


def install():
    patch(BaseResponse, "call_action", _call_action_with_faults)
