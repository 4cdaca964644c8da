"""Mechanical parity of ``batchai_compat.models`` with ``azure.mgmt.batchai.models`` 2.0.0 (the oracle).

Every public class of the original is compared: attribute maps (including order), validation maps,
constructor signatures and defaults, the objects both constructors build, their serialized forms,
``validate()`` messages, enums and paging containers. The oracle is the real installed package.
"""

from __future__ import annotations

import datetime
import enum
import importlib
import inspect
import json
import logging
from pathlib import Path

import azure.mgmt.batchai.models as orig
import pytest
from msrest.paging import Paged
from msrest.serialization import Model

import batchai_compat.models as ours

SPEC = Path(__file__).resolve().parents[2] / "specs" / "batchai-2018-05-01" / "BatchAI.json"
ORIG_DIR = Path(orig.__file__).parent


def _public(module):
    return {name: getattr(module, name) for name in module.__all__}


ORIG_PUBLIC = _public(orig)
MODEL_NAMES = sorted(n for n, c in ORIG_PUBLIC.items() if issubclass(c, Model))
ENUM_NAMES = sorted(n for n, c in ORIG_PUBLIC.items() if issubclass(c, enum.Enum))
PAGED_NAMES = sorted(n for n, c in ORIG_PUBLIC.items() if issubclass(c, Paged))

# What 2.0.0 exports, counted once here so that a silent change of the oracle cannot shrink the tests.
EXPECTED_COUNTS = {"models": 70, "enums": 12, "paged": 9}


def _params(cls):
    return [p for p in inspect.signature(cls.__init__).parameters.values()
            if p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL) and p.name != "self"]


def _required(cls):
    return [p.name for p in _params(cls) if p.default is inspect.Parameter.empty]


# ----------------------------------------------------------------------------------- value factory

def _enum_value(models, type_name):
    return next(iter(getattr(models, type_name))).value


def sample(models, type_name, attr, depth=0):
    """A deterministic, serializable value of msrest type ``type_name`` built from ``models``."""
    if type_name.startswith("["):
        return [sample(models, type_name[1:-1], attr, depth)]
    if type_name.startswith("{"):
        return {"key1": sample(models, type_name[1:-1], attr, depth)}
    primitives = {
        "str": f"{attr}-value", "int": 3, "long": 2 ** 40, "float": 1.5, "bool": True, "object": {"k": ["v", 1]},
        "iso-8601": datetime.datetime(2018, 6, 1, 12, 30, 5, tzinfo=datetime.timezone.utc),
        "duration": datetime.timedelta(hours=5, minutes=3),
    }
    if type_name in primitives:
        return primitives[type_name]
    cls = getattr(models, type_name)
    if issubclass(cls, enum.Enum):
        return _enum_value(models, type_name)
    return build_full(models, type_name, depth + 1)


def build_full(models, name, depth=0):
    """Every attribute set, read-only ones included (assigned after construction like the deserializer)."""
    cls = getattr(models, name)
    kwargs = {}
    for attr, desc in cls._attribute_map.items():
        if cls._validation.get(attr, {}).get("readonly"):
            continue
        kwargs[attr] = sample(models, desc["type"], attr, depth) if depth < 12 else None
    obj = cls(**kwargs)
    for attr, desc in cls._attribute_map.items():
        if cls._validation.get(attr, {}).get("readonly"):
            setattr(obj, attr, sample(models, desc["type"], attr, depth) if depth < 12 else None)
    return obj


def build_minimal(models, name):
    cls = getattr(models, name)
    return cls(**{attr: sample(models, cls._attribute_map[attr]["type"], attr) for attr in _required(cls)})


def _outcome(fn):
    """The JSON text fn() returns, or the exception it raises (type and message): both must match."""
    try:
        return json.dumps(fn(), sort_keys=False, default=str)
    except Exception as exc:  # e.g. the '7.00:00:00' default, which msrest cannot serialize
        return f"{type(exc).__name__}: {exc}"


def _wire(obj):
    return _outcome(lambda: obj.serialize(keep_readonly=True))


def _plain(obj):
    return _outcome(obj.as_dict)


# ------------------------------------------------------------------------------------------ tests

def test_counts_and_public_names(capsys):
    counts = {"models": len(MODEL_NAMES), "enums": len(ENUM_NAMES), "paged": len(PAGED_NAMES)}
    assert counts == EXPECTED_COUNTS
    assert sorted(ours.__all__) == ours.__all__, "our __all__ must be sorted"
    assert set(ours.__all__) == set(orig.__all__)
    # msrest and the client build client_models from the package namespace: same types must be there
    orig_types = {k for k, v in vars(orig).items() if isinstance(v, type)}
    our_types = {k for k, v in vars(ours).items() if isinstance(v, type)}
    assert our_types == orig_types
    with capsys.disabled():
        print(f"\n[parity] {counts['models']} models, {counts['enums']} enums, {counts['paged']} paged classes"
              f" compared ({len(orig.__all__)} public names)")


def test_every_spec_definition_is_accounted_for(capsys):
    """The spec's 82 definitions: each is a model, an enum, a paged list result, flattened into a model,
    or external (msrestazure's CloudError)."""
    spec = json.loads(SPEC.read_text(encoding="utf-8"))
    defs = spec["definitions"]
    flattened_keys = {desc["key"] for name in MODEL_NAMES for desc in getattr(ours, name)._attribute_map.values()
                      if desc["key"].startswith("properties.")}
    kinds = {}
    for name, schema in defs.items():
        if schema.get("x-ms-external"):
            kinds[name] = "external"
        elif name in MODEL_NAMES:
            kinds[name] = "model"
        elif name in ENUM_NAMES:
            kinds[name] = "enum"
        elif list(schema.get("properties", {})) in (["value", "nextLink"], ["nextLink", "value"]):
            item = schema["properties"]["value"]["items"]["$ref"].split("/")[-1]
            assert item + "Paged" in PAGED_NAMES, name
            kinds[name] = "paged"
        else:
            missing = {"properties." + p for p in schema["properties"]} - flattened_keys
            assert not missing, f"{name}: not generated and not flattened anywhere: {missing}"
            kinds[name] = "flattened"
    summary = {k: sum(1 for v in kinds.values() if v == k) for k in sorted(set(kinds.values()))}
    assert len(defs) == 82 and sum(summary.values()) == 82
    assert summary == {"enum": 2, "external": 2, "flattened": 10, "model": 59, "paged": 9}
    with capsys.disabled():
        print(f"\n[parity] 82 spec definitions accounted for: {summary}; "
              f"+{len(MODEL_NAMES) - summary['model']} models from inline schemas and parameter groups")


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_model_maps_and_signature(name):
    o, n = getattr(orig, name), getattr(ours, name)
    assert issubclass(n, Model)
    assert [b.__name__ for b in n.__mro__] == [b.__name__ for b in o.__mro__]
    assert list(n._attribute_map.items()) == list(o._attribute_map.items())
    assert list(n._validation.items()) == list(o._validation.items())
    assert n._subtype_map == o._subtype_map
    # same parameters, order, defaults and annotations; ours are positional-or-keyword, 2.0.0 keyword-only
    assert [(p.name, p.default, p.annotation) for p in _params(n)] == \
           [(p.name, p.default, p.annotation) for p in _params(o)]
    assert all(p.kind is p.POSITIONAL_OR_KEYWORD for p in _params(n))


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_model_construction_and_serialization(name):
    o_min, n_min = build_minimal(orig, name), build_minimal(ours, name)
    assert list(vars(n_min)) == list(vars(o_min))
    assert _plain(n_min) == _plain(o_min)
    assert _wire(n_min) == _wire(o_min)
    assert _wire(getattr(ours, name)(**dict.fromkeys(_required(getattr(ours, name))))) == \
        _wire(getattr(orig, name)(**dict.fromkeys(_required(getattr(orig, name)))))

    o_full, n_full = build_full(orig, name), build_full(ours, name)
    assert _plain(n_full) == _plain(o_full)
    assert _wire(n_full) == _wire(o_full)
    assert _outcome(n_full.serialize) == _outcome(o_full.serialize)
    # and back: deserializing the same wire body gives the same objects
    # (the parameter-group models have empty wire keys: there both fail the same way)
    body = o_full.serialize(keep_readonly=True)
    assert _outcome(lambda: getattr(ours, name).deserialize(body).serialize(keep_readonly=True)) == \
        _outcome(lambda: getattr(orig, name).deserialize(body).serialize(keep_readonly=True))
    assert _outcome(lambda: getattr(ours, name).from_dict(o_full.as_dict()).as_dict()) == \
        _outcome(lambda: getattr(orig, name).from_dict(o_full.as_dict()).as_dict())


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_validate_messages_for_missing_required(name):
    o, n = getattr(orig, name), getattr(ours, name)
    o_obj = o(**dict.fromkeys(_required(o)))
    n_obj = n(**dict.fromkeys(_required(n)))
    assert [str(e) for e in n_obj.validate()] == [str(e) for e in o_obj.validate()]
    assert [str(e) for e in build_full(ours, name).validate()] == [str(e) for e in build_full(orig, name).validate()]


@pytest.mark.parametrize("factory", [
    lambda m: m.JobCreateParameters(cluster=None, node_count=None, std_out_err_path_prefix=None),
    lambda m: m.JobCreateParameters(
        cluster=m.ResourceId(id=None), node_count=1, std_out_err_path_prefix="$AZ_BATCHAI_MOUNT_ROOT/x",
        input_directories=[m.InputDirectory(id="IN", path=None)],
        tensor_flow_settings=m.TensorFlowSettings(python_script_file_path=None),
        mount_volumes=m.MountVolumes(azure_file_shares=[m.AzureFileShareReference(
            account_name="a", azure_file_url=None, credentials=m.AzureStorageCredentialsInfo(),
            relative_mount_path="afs")])),
    lambda m: m.ClusterCreateParameters(vm_size=None, user_account_settings=m.UserAccountSettings(admin_user_name=None),
                                        scale_settings=m.ScaleSettings(manual=m.ManualScaleSettings(
                                            target_node_count=None))),
    lambda m: m.FileServerCreateParameters(vm_size="STANDARD_NC6", ssh_configuration=None,
                                           data_disks=m.DataDisks(disk_size_in_gb=10, disk_count=None,
                                                                  storage_account_type=None)),
    lambda m: m.JobsListOutputFilesOptions(outputdirectoryid=None),
], ids=["job-nothing-set", "job-nested", "cluster-nested", "fileserver", "list-output-files-options"])
def test_validate_messages_representative(factory):
    o_errors = [str(e) for e in factory(orig).validate()]
    assert o_errors, "the oracle reports these objects as invalid"
    assert [str(e) for e in factory(ours).validate()] == o_errors


def test_required_arguments_and_unknown_kwargs(caplog):
    with pytest.raises(TypeError):
        orig.JobCreateParameters()
    with pytest.raises(TypeError):
        ours.JobCreateParameters()
    with caplog.at_level(logging.WARNING):
        o = orig.JobCreateParameters(cluster=None, node_count=1, std_out_err_path_prefix="p", location="eastus")
        n = ours.JobCreateParameters(cluster=None, node_count=1, std_out_err_path_prefix="p", location="eastus")
    assert vars(n) == vars(o)
    assert not hasattr(n, "location")
    warnings = [r.getMessage() for r in caplog.records if "location is not a known attribute" in r.getMessage()]
    assert len(warnings) == 2
    # read-only attributes passed as keywords are ignored with a warning, as in 2.0.0
    assert vars(ours.Job(execution_state="running")) == vars(orig.Job(execution_state="running"))


def test_max_wall_clock_time_quirk():
    for name in ("JobBasePropertiesConstraints", "JobPropertiesConstraints"):
        assert getattr(ours, name)().max_wall_clock_time == getattr(orig, name)().max_wall_clock_time == "7.00:00:00"
    wire = {"properties": {"constraints": {"maxWallClockTime": "P7D"}}}
    assert ours.Job.deserialize(wire).constraints.max_wall_clock_time == datetime.timedelta(days=7)


def test_positional_construction():
    assert ours.ResourceId("x").id == "x"
    env = ours.EnvironmentVariable("NAME", "value")
    assert (env.name, env.value) == ("NAME", "value")
    with pytest.raises(TypeError):
        ours.ResourceId("x", "y")
    with pytest.raises(TypeError):
        ours.EnvironmentVariable("NAME", "value", "extra")
    with pytest.raises(TypeError):
        ours.Usage("x")  # nothing settable
    with pytest.raises(TypeError):
        orig.ResourceId("x")  # the 2.0.0 behaviour we deliberately extend
    job = ours.JobCreateParameters(ours.ResourceId("/c"), 2, "$AZ_BATCHAI_MOUNT_ROOT/out", "high")
    assert (job.cluster.id, job.node_count, job.std_out_err_path_prefix, job.scheduling_priority) == \
        ("/c", 2, "$AZ_BATCHAI_MOUNT_ROOT/out", "high")
    with pytest.raises(TypeError):
        ours.JobCreateParameters(ours.ResourceId("/c"), 2, "p", cluster=None)  # given twice


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_positional_equals_keyword(name):
    n = getattr(ours, name)
    params = _params(n)
    values = [sample(ours, n._attribute_map[p.name]["type"], p.name) for p in params]
    positional = n(*values)
    keyword = n(**{p.name: v for p, v in zip(params, values)})
    assert vars(positional) == vars(keyword)
    assert _wire(positional) == _wire(getattr(orig, name)(**{p.name: sample(orig, n._attribute_map[p.name]["type"],
                                                                            p.name) for p in params}))
    with pytest.raises(TypeError):
        n(*values, "one too many")


@pytest.mark.parametrize("name", ENUM_NAMES)
def test_enums(name):
    o, n = getattr(orig, name), getattr(ours, name)
    assert issubclass(n, str) and issubclass(n, enum.Enum)
    assert [(m.name, m.value) for m in n] == [(m.name, m.value) for m in o]
    for member in n:
        assert member == member.value


@pytest.mark.parametrize("name", PAGED_NAMES)
def test_paged(name):
    o, n = getattr(orig, name), getattr(ours, name)
    assert issubclass(n, Paged)
    assert n._attribute_map == o._attribute_map

    item_type = n._attribute_map["current_page"]["type"][1:-1]
    item = build_full(orig, item_type).serialize(keep_readonly=True)

    def run(models_module, paged_cls):
        pages = iter([{"value": [item], "nextLink": "next"}, {"value": [item, item], "nextLink": None}])
        links = []

        def command(next_link, raw=False):
            links.append(next_link)
            return next(pages)

        models = {k: v for k, v in vars(models_module).items() if isinstance(v, type)}
        items = list(paged_cls(command, models))
        return links, [type(i).__name__ for i in items], [i.serialize(keep_readonly=True) for i in items]

    assert run(ours, n) == run(orig, o)
    assert run(ours, n)[:2] == (["", "next"], [item_type] * 3)


def test_submodule_import_paths(capsys):
    stems = sorted(p.stem for p in ORIG_DIR.glob("*.py") if p.stem != "__init__")
    checked = 0
    for stem in stems:
        o_mod = importlib.import_module(f"azure.mgmt.batchai.models.{stem}")
        n_mod = importlib.import_module(f"batchai_compat.models.{stem}")
        classes = [k for k, v in vars(o_mod).items()
                   if isinstance(v, type) and v.__module__ == o_mod.__name__]
        assert classes, stem
        for cls in classes:
            assert getattr(n_mod, cls) is getattr(ours, cls), f"{stem}.{cls}"
            checked += 1
        assert getattr(ours, stem) is n_mod  # attribute access works too, as after 2.0.0's eager imports
    assert len(stems) == 2 * EXPECTED_COUNTS["models"] + EXPECTED_COUNTS["paged"] + 1
    with capsys.disabled():
        print(f"\n[parity] {len(stems)} original submodule paths import, {checked} class re-exports identical")


def test_client_models_dict_works_like_the_original():
    from msrest.serialization import Deserializer, Serializer

    client_models = {k: v for k, v in ours.__dict__.items() if isinstance(v, type)}
    body = build_full(orig, "Cluster").serialize(keep_readonly=True)
    cluster = Deserializer(client_models)("Cluster", body)
    assert isinstance(cluster, ours.Cluster)
    assert isinstance(cluster.scale_settings.manual, ours.ManualScaleSettings)
    assert Serializer(client_models).body(cluster, "Cluster") == build_full(orig, "Cluster").serialize()
