'''The one way the emulator changes moto: `patch` replaces an attribute and keeps what it was,
`register` adds a CloudFormation resource type.

Neither does anything twice. A second patch of the same (owner, attribute) raises
`AlreadyPatched`: two wrappers of one method run in whatever order their imports left them in
(ChangeSet.apply was once wrapped for item 1 and again, around that, for item 27), so one
wrapper does all the steps instead, in the order written there. A second registration of a
resource type raises too. Calling `emulator.install()` twice therefore raises instead of
wrapping everything twice.

    patch(models.ChangeSet, "diff", _diff_with_parameters)        # a method
    patch(Key, "create_from_cloudformation_json", classmethod(_create_key_with_kms_tags))
    patch(EventBus, "physical_resource_id", property(lambda self: self.name))
    patch(GlobalCluster, "failover_state", None)                  # a class attribute
    original(models.ChangeSet, "diff")(change_set)                # moto's own diff
    original(Key, "create_from_cloudformation_json").__func__     # moto's, to call with a cls
    register(_GlobalClusterResource, "moto.rds.harness")          # a resource type
'''

import types

from moto.cloudformation import parsing
from moto.core.common_models import CloudFormationModel

_MISSING = object()
# (owner, attribute) -> what reading the attribute gave before it was patched.
_originals = {}
# CloudFormation type -> the model class registered for it.
_models = {}


class AlreadyPatched(RuntimeError):
    """An attribute patched, or a resource type registered, a second time."""


def _name(owner, name):
    if isinstance(owner, types.ModuleType):
        return f"{owner.__name__}.{name}"
    return f"{owner.__module__}.{owner.__qualname__}.{name}"


def patch(owner, name, replacement):
    """Sets `owner.<name>` (a class's or a module's attribute) to `replacement`, which is what
    the attribute should hold: a function for a method, or an object already wrapped
    (`classmethod(f)`, `property(f)`) or a plain value. What the attribute was stays available
    through `original`. Raises AlreadyPatched if (owner, name) was patched before."""
    key = (owner, name)
    if key in _originals:
        raise AlreadyPatched(f"{_name(owner, name)} is patched already")
    _originals[key] = getattr(owner, name, _MISSING)
    setattr(owner, name, replacement)
    return replacement


def original(owner, name):
    """What reading `owner.<name>` gave before `patch` replaced it: a function for a method, a
    bound method for a classmethod (its function, to call with another `cls`, is `.__func__`)."""
    try:
        value = _originals[(owner, name)]
    except KeyError:
        raise KeyError(f"{_name(owner, name)} is not patched") from None
    if value is _MISSING:
        raise AttributeError(f"{_name(owner, name)} did not exist before it was patched")
    return value


def patched():
    """Every (owner, attribute) patched so far, in the order they were patched."""
    return list(_originals)


def register(model, module):
    """Makes `model` (a class with CloudFormation's static and class methods: cloudformation_type,
    create_from_cloudformation_json, …) a resource type moto creates, and returns the class moto
    sees. moto finds models among CloudFormationModel's direct subclasses, so defining one is
    what registers it: the class is made here, a subclass of `model` and CloudFormationModel,
    rather than where `model` is written, so that importing a module registers nothing. moto's
    model registry files models under the service named by their module (`moto.rds.harness`
    files the model under RDS). Raises AlreadyPatched if the type was registered before."""
    kind = model.cloudformation_type()
    if kind in _models:
        raise AlreadyPatched(f"{kind} is registered already")
    if parsing.get_model_list.cache_info().currsize:
        raise RuntimeError(f"{kind} registered after moto read its resource types: too late")
    namespace = {"__module__": module, "__qualname__": model.__qualname__, "__doc__": model.__doc__}
    registered = type(CloudFormationModel)(model.__name__, (model, CloudFormationModel), namespace)
    _models[kind] = registered
    return registered
