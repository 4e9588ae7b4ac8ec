"""The policy evaluation the preconditions of items 38-40 need: does a resource policy (a bucket
policy, a key policy) let this principal make this call in this context? As IAM evaluates a
resource-based policy (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):
an applicable Deny wins, else an applicable Allow allows. Actions and resources match with IAM's
wildcards; conditions with the operators our templates use (StringEquals, StringLike,
ArnEquals, ArnLike, Bool, their Not forms and IfExists); a condition key absent from the request
makes a positive operator fail and a negated one hold.

A principal is ("service", "cloudtrail.amazonaws.com"), ("account", "127311923021") (a statement
naming `arn:aws:iam::<account>:root` or the account id) or ("iam", "<account>") for an IAM
identity of the account, which a statement naming the account root lets through to IAM.
"""

import fnmatch
import json


def _list(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _glob(pattern, text, case=True):
    pattern = pattern.replace("[", "[[]")
    if not case:
        pattern, text = pattern.lower(), text.lower()
    return fnmatch.fnmatchcase(text, pattern)


def _principal_matches(principal_element, principal):
    if principal_element == "*":
        return True
    kind, who = principal
    if isinstance(principal_element, dict):
        if principal_element.get("AWS") == "*":
            return True
        if kind == "service":
            return who in _list(principal_element.get("Service"))
        for arn in _list(principal_element.get("AWS")):
            if arn in (who, f"arn:aws:iam::{who}:root"):
                return True
    return False


def _condition_holds(conditions, context):
    for operator, keys in (conditions or {}).items():
        if_exists = operator.endswith("IfExists")
        op = operator[: -len("IfExists")] if if_exists else operator
        op = op.split(":")[-1]
        negated = "Not" in op
        for key, wanted in keys.items():
            actual = next((v for k, v in context.items() if k.lower() == key.lower()), None)
            if actual is None:
                if not (if_exists or negated):
                    return False
                continue
            wanted = [str(w).lower() if op == "Bool" else str(w) for w in _list(wanted)]
            if op.startswith(("StringLike", "StringNotLike", "ArnLike", "ArnNotLike")):
                hit = any(_glob(w, actual) for w in wanted)
            else:
                hit = actual in wanted
            if hit == negated:
                return False
    return True


def _applies(statement, principal, action, resource, context):
    if "Principal" in statement and not _principal_matches(statement["Principal"], principal):
        return False
    actions = _list(statement.get("Action"))
    if not any(_glob(a, action, case=False) for a in actions):
        return False
    resources = _list(statement.get("Resource", "*"))
    if not any(_glob(r, resource) for r in resources):
        return False
    return _condition_holds(statement.get("Condition"), context)


def allows(policy, principal, action, resource, context=None):
    """Whether `policy` (a document or its JSON text) allows `principal` to make `action` on
    `resource` with the request `context`, and denies nothing of it."""
    if isinstance(policy, str):
        policy = json.loads(policy) if policy else {}
    statements = _list((policy or {}).get("Statement"))
    context = dict(context or {})
    context.setdefault("aws:SecureTransport", "true")
    hits = [s for s in statements if _applies(s, principal, action, resource, context)]
    return bool(hits) and not any(s.get("Effect") == "Deny" for s in hits) and any(
        s.get("Effect") == "Allow" for s in hits
    )
