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

Here the order is adversarial and respects only the declared dependencies: every resource is
made as late as its declared dependents allow (latest start first, "as late as possible"
scheduling), so what nothing declares a need for — a bucket policy, an alarm a composite alarm
names only by string, a listener a service needs — comes last, after the resources that need it
without saying so; resources that may start at the same moment are made last-listed first.
Deletion is the reverse of that order (what depends on a resource is deleted before it), so an
undeclared dependency is deleted while what needs it still exists. With TRADING_DR_ORDER_SEED
set, ties are broken by a random choice with that seed instead, so the same tests can run under
other orders. A resource that fails to delete stops the deletion of what it depends on, and
nothing is retried, as in CloudFormation. (A realistic schedule, slow resources late, would hide
these races exactly as often as AWS hides them: most of the time.)

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


def creation_order(resources, ids=None):
    """`ids` (all of `resources` by default) in an order CloudFormation may make them: each after
    its declared dependencies, and otherwise as late as possible (a resource's height is the
    longest chain of declared dependents above it; the tallest start first), ties last-listed
    first."""
    ids = list(resources) if ids is None else [i for i in resources if i in set(ids)]
    deps = dependencies(resources)
    dependents = {i: set() for i in resources}
    for i, ds in deps.items():
        for d in ds:
            dependents[d].add(i)
    height = {}

    def tall(i, seen=()):
        if i not in height:
            if i in seen:  # a cycle: CloudFormation refuses the template
                return 0
            height[i] = 1 + max((tall(j, seen + (i,)) for j in dependents[i]), default=-1)
        return height[i]

    listed = {logical: n for n, logical in enumerate(resources)}
    seed = os.environ.get("TRADING_DR_ORDER_SEED")
    rng = random.Random(int(seed)) if seed else None
    tie = {i: (rng.random() if rng else -listed[i]) for i in ids}
    return sorted(ids, key=lambda i: (-tall(i), tie[i]))


def deletion_order(resources, ids=None):
    """`ids` in an order CloudFormation may delete them: the reverse of `creation_order`, so what
    depends on a resource goes first and an undeclared dependency goes while its user exists."""
    return list(reversed(creation_order(resources, ids)))


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
