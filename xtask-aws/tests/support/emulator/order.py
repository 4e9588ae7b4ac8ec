"""35. CloudFormation's order, not the template's (the order functions; cloudformation.py applies
them).

CloudFormation orders a stack's resources only by their declared dependencies: `Ref`,
`Fn::GetAtt`, a `${…}` reference in `Fn::Sub`, and `DependsOn`. Everything else it creates at
the same time, and it deletes in the reverse order ("CloudFormation creates resources in
parallel unless a dependency is declared … deletes in the reverse order",
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-dependson.html).
moto 5.2 creates them one by one in the order the template lists them (resolving a reference
by creating its target on the spot) and deletes in passes until nothing is left, retrying what
failed, so a resource that needs another without declaring it works here whenever the template
happens to list them in a lucky order, and fails in AWS whenever the parallel creation goes the
other way.

Here the order is adversarial and respects only the declared dependencies: of the resources
whose dependencies are all made, the one listed LAST in the template is made first, so a
resource is made before anything it has not declared (for creation, "dependents as early as
possible"); deletion takes, of the resources nothing left depends on, the one listed FIRST, so
an undeclared dependency is deleted while what needs it still exists. With TRADING_DR_ORDER_SEED
set, ties are broken by a random choice with that seed instead, so the same tests can run under
other orders (`seed=N` in the test log). A resource that fails to delete stops the deletion of
what it depends on, and nothing is retried, as in CloudFormation.

    dependencies(resources)            {logical id: {declared dependencies}}
    creation_order(resources, ids)     ids in an order CloudFormation may create them
    deletion_order(resources, ids)     ids in an order CloudFormation may delete them
"""

import os
import random
import re

_SUB_VARIABLE = re.compile(r"\$\{([^}!][^}]*)\}")


def _references(value, out):
    if isinstance(value, dict):
        ref = value.get("Ref")
        if isinstance(ref, str):
            out.add(ref)
        getatt = value.get("Fn::GetAtt")
        if isinstance(getatt, list) and getatt:
            out.add(getatt[0])
        elif isinstance(getatt, str):
            out.add(getatt.split(".")[0])
        sub = value.get("Fn::Sub")
        if sub is not None:
            text, local = (sub, {}) if isinstance(sub, str) else (sub[0], sub[1] if len(sub) > 1 else {})
            for name in _SUB_VARIABLE.findall(text):
                name = name.split(".")[0]
                if name not in local:
                    out.add(name)
        for child in value.values():
            _references(child, out)
    elif isinstance(value, list):
        for child in value:
            _references(child, out)


def dependencies(resources):
    """Each resource's declared dependencies among `resources` ({logical id: body})."""
    out = {}
    for logical, body in resources.items():
        refs = set()
        _references(body.get("Properties", {}), refs)
        depends = body.get("DependsOn", [])
        refs.update([depends] if isinstance(depends, str) else depends)
        out[logical] = {r for r in refs if r in resources and r != logical}
    return out


def _chooser():
    seed = os.environ.get("TRADING_DR_ORDER_SEED")
    if seed:
        rng = random.Random(int(seed))
        return lambda ready, _listed: rng.choice(sorted(ready))
    return None


def creation_order(resources, ids=None):
    """`ids` (all of `resources` by default) in an order that makes every resource after its
    declared dependencies and otherwise as early as possible: the last-listed ready one first."""
    ids = list(resources) if ids is None else [i for i in resources if i in set(ids)]
    deps = dependencies(resources)
    listed = {logical: n for n, logical in enumerate(resources)}
    wanted = set(ids)
    pending = {i: {d for d in deps[i] if d in wanted} for i in ids}
    choose = _chooser() or (lambda ready, listed: max(ready, key=listed.__getitem__))
    order = []
    while pending:
        ready = [i for i, d in pending.items() if not d]
        if not ready:  # a cycle: CloudFormation refuses the template; keep the listed order
            ready = [min(pending, key=listed.__getitem__)]
        pick = choose(ready, listed)
        order.append(pick)
        del pending[pick]
        for d in pending.values():
            d.discard(pick)
    return order


def deletion_order(resources, ids=None):
    """`ids` in an order that deletes every resource before its declared dependencies and
    otherwise as early as possible: the first-listed one that nothing left depends on first."""
    ids = list(resources) if ids is None else [i for i in resources if i in set(ids)]
    deps = dependencies(resources)
    listed = {logical: n for n, logical in enumerate(resources)}
    left = set(ids)
    choose = _chooser() or (lambda ready, listed: min(ready, key=listed.__getitem__))
    order = []
    while left:
        needed = {d for i in left for d in deps[i]}
        ready = [i for i in left if i not in needed]
        if not ready:
            ready = [max(left, key=listed.__getitem__)]
        pick = choose(ready, listed)
        order.append(pick)
        left.discard(pick)
    return order


def needed_by(resources, logical):
    """Everything `logical` depends on, directly or not."""
    deps = dependencies(resources)
    out, stack = set(), [logical]
    while stack:
        for d in deps.get(stack.pop(), ()):
            if d not in out:
                out.add(d)
                stack.append(d)
    return out
