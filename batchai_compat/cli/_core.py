"""The ``batchai`` command's framework: knack CLI, command loader, generation rule, output conversion.

Why knack: it is the framework the Azure CLI itself is built on (knack on PyPI), so output formats
(``-o json/jsonc/table/tsv/yaml/none``), ``--query`` (JMESPath), ``--verbose/--debug/--only-show-errors``,
help layout, argument errors (exit code 2) and ``az configure --defaults`` (``configured_default``) behave
as users of ``az batchai`` know them, without re-implementing any of it.

Start-up cost: importing this module imports knack only. Command modules
(:mod:`batchai_compat.cli.commands`) are plain Python; a handler imports the SDK (msrest, models) inside
its body, so ``batchai job show`` pays only for what ``job show`` uses.

Command modules register with :func:`command_group` / :meth:`BatchAICommandsLoader.argument_context`
and their handlers take ``cmd`` (a :class:`CommandContext`) as first parameter; see the module
``batchai_compat/cli/commands/__init__.py`` and ``docs/cli.md``.
"""

from __future__ import annotations

import datetime
import enum
import importlib
import os
import sys
from collections import OrderedDict
from typing import Any, Callable, Dict, Iterable, List, NoReturn, Optional, Sequence, Tuple

from knack import CLI
from knack.arguments import ArgumentsContext, CLICommandArgument
from knack.commands import CLICommand, CLICommandsLoader, CommandGroup
from knack.invocation import CommandInvoker
from knack.log import get_logger
from knack.parser import CLICommandParser
from knack.util import CLIError

logger = get_logger(__name__)

CLI_NAME = "batchai"

#: The subscription id used when none is given: the local backend needs one (it is part of every
#: resource id) but never checks it. Override with ``--subscription`` or ``BATCHAI_COMPAT_SUBSCRIPTION``.
DEFAULT_SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
ENV_SUBSCRIPTION = "BATCHAI_COMPAT_SUBSCRIPTION"

#: API generations a command can run in.
NEW = "2018-05-01"
OLD = "2018-03-01"

#: Client packages per generation (imported only when a command runs).
_CLIENT_PACKAGES = {NEW: "batchai_compat", OLD: "batchai_compat.v2018_03_01",
                    "2017-09-01-preview": "batchai_compat.v2017_09_01_preview"}
_MODELS_PACKAGES = {NEW: "batchai_compat.models", OLD: "batchai_compat.v2018_03_01.models",
                    "2017-09-01-preview": "batchai_compat.v2017_09_01_preview.models"}


class GenerationError(CLIError):
    """Options of the 2018-05-01 shape (``-w``) and of the old shape were combined."""


# --------------------------------------------------------------------------------------------
# Commands: registration
# --------------------------------------------------------------------------------------------


class CommandSpec:
    """What the framework knows about a command beyond knack's CLICommand (generation, no-wait)."""

    def __init__(self, name: str, operation: str, *, shape: str = "new", workspace_arg: Optional[str] = None,
                 old_args: Sequence[str] = (), supports_no_wait: bool = False, show: bool = False,
                 id_parts: Optional[Dict[str, str]] = None, new_required: Sequence[str] = (),
                 legacy_options: Sequence[str] = ()) -> None:
        self.name = name
        self.operation = operation
        #: "new": only the 2018-05-01 shape; "old": an old-only command name (``cluster list-nodes``);
        #: "both": new when a workspace is given or configured, old otherwise.
        self.shape = shape
        self.workspace_arg = workspace_arg
        self.old_args = tuple(old_args)
        self.supports_no_wait = supports_no_wait
        #: a ``show`` command: a 404 exits 3 (azure-cli-core's ``show_command``, used by 0.4.10)
        self.show = show
        #: dest -> part of the ARM id (``resource_group``, ``name``, ``child_name_1``, ``resource_name``):
        #: the command takes ``--ids`` (azure-cli-core adds it for arguments with an ``id_part``)
        self.id_parts: Dict[str, str] = dict(id_parts or {})
        #: dests the 2018-05-01 shape requires although the parser does not (``-g`` of ``cluster list``)
        self.new_required = tuple(new_required)
        #: id-part dests that were parser-required before ``--ids`` made them optional
        self.required_id_args: List[str] = []
        #: option strings of the old CLIs only (besides those of ``old_args``): an abbreviation that also
        #: matches a 0.4.10 option means the 0.4.10 one (``--co`` is ``--config-file``, not ``--container-name``)
        self.legacy_options = tuple(legacy_options)


def _handler(operation: str) -> Callable[..., Any]:
    module_name, attr = operation.split("#")
    return getattr(importlib.import_module(module_name), attr)  # type: ignore[no-any-return]


class BatchAICommand(CLICommand):
    """A knack command carrying its :class:`CommandSpec`.

    ``configured_default`` may name several ``[defaults]`` keys separated by ``|``; the first one
    set wins (file-server's ``-w`` reads ``workspace``, then 0.4.10's ``default_workspace_name``).
    """

    spec: CommandSpec

    def _resolve_default_value_from_config_file(self, arg: Any, overrides: Any) -> None:
        keys = overrides.settings.get("configured_default", None)
        if not keys or "|" not in keys:
            super()._resolve_default_value_from_config_file(arg, overrides)
            return
        for key in keys.split("|"):
            overrides.settings["configured_default"] = key
            super()._resolve_default_value_from_config_file(arg, overrides)
            if overrides.settings.get("default_value_source") == "Config":
                break
        overrides.settings["configured_default"] = keys


class BatchAICommandsLoader(CLICommandsLoader):
    """Loads command modules listed in :data:`batchai_compat.cli.commands.COMMAND_MODULES`.

    Only the module(s) owning the first command word are imported for a command line (all of them
    for top-level help), which keeps ``batchai job show`` from importing the cluster module.
    """

    def __init__(self, cli_ctx: Any = None) -> None:
        super().__init__(cli_ctx=cli_ctx, command_cls=BatchAICommand,
                         excluded_command_handler_args=["self", "kwargs", "cmd"])
        self._modules: List[Any] = []

    def argument_context(self, scope: str, **kwargs: Any) -> ArgumentsContext:
        """knack's ``ArgumentsContext`` for ``scope`` (a command or group name without ``batchai``)."""
        return ArgumentsContext(self, scope, **kwargs)

    # knack entry points ------------------------------------------------------------------
    def load_command_table(self, args: Optional[List[str]]) -> Any:
        from batchai_compat.cli.commands import modules_for

        self._modules = modules_for(list(args or []))
        for module in self._modules:
            module.load_commands(self)
        return super().load_command_table(args)

    def load_arguments(self, command: Optional[str]) -> None:
        with ArgumentsContext(self, "") as c:
            c.argument("resource_group", options_list=["--resource-group", "-g"], configured_default="group",
                       help="Name of resource group. You can configure the default group using "
                            "`az configure --defaults group=<name>`.")
            c.argument("subscription", configured_default="subscription")
        for module in self._modules:
            module.load_arguments(self)
        super().load_arguments(command)

    def _apply_parameter_info(self, command_name: str, command: Any) -> None:
        super()._apply_parameter_info(command_name, command)
        spec = getattr(command, "spec", None)
        if spec is None or not spec.id_parts:
            return
        required = []
        for dest in spec.id_parts:
            argument = command.arguments.get(dest)
            if argument is None:
                continue
            settings = argument.type.settings
            if settings.get("required"):
                required.append(dest)
            settings["required"] = False
            settings["arg_group"] = "Resource Id"
        spec.required_id_args = required

    def create_command(self, name: str, operation: str, **kwargs: Any) -> Any:  # type: ignore[override]
        spec = CommandSpec(name, operation, shape=kwargs.pop("shape", "new"),
                           workspace_arg=kwargs.pop("workspace_arg", None),
                           old_args=kwargs.pop("old_args", ()),
                           supports_no_wait=kwargs.pop("supports_no_wait", False),
                           show=kwargs.pop("show", False), id_parts=kwargs.pop("id_parts", None),
                           new_required=kwargs.pop("new_required", ()),
                           legacy_options=kwargs.pop("legacy_options", ()))
        loader = self
        user_validator = kwargs.pop("validator", None)

        def arguments_loader() -> List[Tuple[str, CLICommandArgument]]:
            from knack.introspection import extract_args_from_signature

            args = list(extract_args_from_signature(_handler(operation),
                                                    excluded_params=loader.excluded_command_handler_args))
            if spec.supports_no_wait:
                args.append(("no_wait", CLICommandArgument(
                    "no_wait", options_list=["--no-wait"], action="store_true", default=False,
                    help="Do not wait for the long-running operation to finish.")))
            args.append(("subscription", CLICommandArgument(
                "subscription", options_list=["--subscription"], default=None, metavar="ID",
                arg_group="Resource Id" if spec.id_parts else "Global", configured_default="subscription",
                help="Name or ID of subscription. You can configure the default subscription using "
                     "`az configure --defaults subscription=<id>` (else $BATCHAI_COMPAT_SUBSCRIPTION, else "
                     f"{DEFAULT_SUBSCRIPTION}).")))
            if spec.id_parts:
                args.append(("ids", CLICommandArgument(
                    "ids", options_list=["--ids"], nargs="+", default=None, arg_group="Resource Id",
                    help="One or more resource IDs (space-delimited). It should be a complete resource ID "
                         "containing all information of 'Resource Id' arguments. You should provide either --ids "
                         "or other 'Resource Id' arguments.")))
            return args

        def validator(namespace: Any) -> None:
            _framework_validator(loader.cli_ctx, spec, namespace)
            if user_validator is not None:
                user_validator(namespace)

        def description_loader() -> str:
            from knack.introspection import extract_full_summary_from_signature

            return extract_full_summary_from_signature(_handler(operation))  # type: ignore[no-any-return]

        def run_once(command_args: Dict[str, Any]) -> Any:
            ctx = CommandContext(loader.cli_ctx, spec, command_args)
            handler = _handler(operation)
            try:
                return to_output(handler(ctx, **command_args))
            except Exception as exc:  # noqa: BLE001 - only 404s of show commands are changed
                if spec.show and _status_code(exc) == 404:
                    raise CLIError(_service_error_message(exc) or str(exc), 3) from exc
                raise

        def command_handler(command_args: Dict[str, Any]) -> Any:
            parsed_ids = command_args.pop("ids", None)
            if not parsed_ids:
                return run_once(command_args)
            results = [run_once(dict(command_args, **values)) for values in parsed_ids]
            return results[0] if len(results) == 1 else results

        kwargs["arguments_loader"] = arguments_loader
        kwargs["validator"] = validator
        kwargs["description_loader"] = description_loader
        command = BatchAICommand(self.cli_ctx, name, command_handler, **kwargs)
        command.spec = spec
        return command


def add_help(name: str, summary: str, *, kind: str = "command", examples: Sequence[Tuple[str, str]] = ()) -> None:
    """Help text of a command or group (knack's ``helps``, the YAML the Azure CLI's ``_help.py`` used).

    ``examples`` are ``(name, text)`` pairs; ``text`` is the command line without the program name.
    """
    import json

    from knack.help_files import helps

    lines = [f"type: {kind}", f"short-summary: {json.dumps(summary)}"]
    if examples:
        lines.append("examples:")
        for title, text in examples:
            lines.append(f"  - name: {json.dumps(title)}")
            lines.append(f"    text: {json.dumps(CLI_NAME + ' ' + text)}")
    helps[name] = "\n".join(lines) + "\n"


def command_group(loader: BatchAICommandsLoader, group: str, module: str, **kwargs: Any) -> CommandGroup:
    """A knack ``CommandGroup`` for ``batchai <group>`` whose handlers are functions of ``module``.

    ``g.command(name, function_name, table_transformer=..., confirmation=True, supports_no_wait=True,
    shape="both"|"new"|"old", workspace_arg="workspace_name", old_args=("location", ...))``.
    """
    kwargs.setdefault("deprecate_info", None)
    return CommandGroup(loader, group, module + "#{}", **kwargs)


def _status_code(exc: BaseException) -> Optional[int]:
    code = getattr(exc, "status_code", None)
    if code is None:
        code = getattr(getattr(exc, "response", None), "status_code", None)
    return code if isinstance(code, int) else None


def _options_of(cli_ctx: Any, spec: CommandSpec, dest: str) -> str:
    """"--long/-s" of ``dest`` in the command (for argparse-style messages)."""
    try:
        argument = cli_ctx.invocation.commands_loader.command_table[spec.name].arguments[dest]
        return "/".join(argument.type.settings.get("options_list") or []) or "--" + dest.replace("_", "-")
    except (AttributeError, KeyError):
        return "--" + dest.replace("_", "-")


def parse_ids(spec: CommandSpec, ids: Sequence[str]) -> List[Dict[str, Any]]:
    """Argument values from each ``--ids`` value (ValueError for a malformed id: exit 2).

    A pre-workspace id (``.../providers/Microsoft.BatchAI/clusters/c1``) fills the deepest id part with
    its name and leaves the workspace (and experiment) empty, so the command runs in the old shape.
    """
    from batchai_compat.cli._mounts import parse_resource_id

    depth = {"resource_group": 0, "name": 1, "child_name_1": 2, "child_name_2": 3, "resource_name": 4}
    deepest = max(spec.id_parts, key=lambda d: depth.get(spec.id_parts[d], 0))
    out = []
    for value in ids:
        parts = parse_resource_id(value)
        if not parts:
            raise ValueError(f"argument --ids: invalid resource ID: '{value}'")
        values: Dict[str, Any] = {"subscription": parts["subscription"]}
        old = (parts.get("type") or "").lower() != "workspaces"
        for dest, part in spec.id_parts.items():
            if part == "resource_group":
                values[dest] = parts["resource_group"]
            elif old:
                values[dest] = parts["name"] if dest == deepest else None
            else:
                values[dest] = parts.get(part)
        out.append(values)
    return out


def _framework_validator(cli_ctx: Any, spec: CommandSpec, namespace: Any) -> None:
    """``--ids`` and the shape-dependent required arguments, checked argparse-style (exit 2)."""
    ids = getattr(namespace, "ids", None)
    if ids:
        parsed = parse_ids(spec, ids)
        for dest, value in parsed[0].items():  # later validators see the first id's values
            setattr(namespace, dest, value)
        namespace.ids = parsed
        return
    missing = [d for d in spec.required_id_args if getattr(namespace, d, None) in (None, "")]
    if spec.new_required and choose_generation(spec, vars(namespace)) == NEW:
        missing += [d for d in spec.new_required if getattr(namespace, d, None) in (None, "") and d not in missing]
    if missing:
        raise ValueError("the following arguments are required: "
                         + ", ".join(_options_of(cli_ctx, spec, d) for d in missing))


# --------------------------------------------------------------------------------------------
# Commands: execution context, generation rule, clients
# --------------------------------------------------------------------------------------------


def _given(value: Any) -> bool:
    """Whether an argument value came from the command line (not a default or a configured default)."""
    if value is None or value is False or value == []:
        return False
    return not getattr(value, "is_default", False)


def choose_generation(spec: CommandSpec, args: Dict[str, Any], options: Optional[Dict[str, str]] = None) -> str:
    """The ONE generation rule of the CLI (see docs/cli.md, "Generations").

    * an old-only command name (``cluster list-nodes``, ``job list-files``...) runs in the old shape;
      combined with ``-w`` on the command line it is an error;
    * an old-only option given on the command line (``-c/--config`` on ``cluster create``,
      ``-l/--location``, ``--container-name``, ``-r/--cluster-name``...) selects the old shape; with an
      explicit ``-w`` it is an error; a workspace that only comes from ``az configure --defaults`` is
      then ignored;
    * otherwise a workspace (``-w`` given or configured) selects 2018-05-01;
    * otherwise a command that exists in both shapes runs in the old shape: its resources live in the
      resource group's default workspace ``default`` (as for the old Python clients,
      :mod:`batchai_compat._generations`); a 2018-05-01-only command needs ``-w``.
    """
    ws_value = args.get(spec.workspace_arg) if spec.workspace_arg else None
    ws_explicit = _given(ws_value)
    old_given = [name for name in spec.old_args if _given(args.get(name))]
    if spec.shape == "old":
        if ws_explicit:
            raise GenerationError(
                f"'batchai {spec.name}' is a command of the pre-workspace CLI (API 2018-03-01) and does not take "
                "--workspace/-w; use its 2018-05-01 spelling with -w, or drop -w to use the default workspace.")
        return OLD
    if old_given:
        names = ", ".join((options or {}).get(name) or "--" + name.replace("_", "-") for name in old_given)
        if ws_explicit:
            raise GenerationError(
                f"{names}: option(s) of the pre-workspace CLI (API 2018-03-01) cannot be combined with "
                "--workspace/-w; use the 2018-05-01 options (see 'batchai " + spec.name + " -h') or drop -w.")
        if spec.shape == "new":
            raise GenerationError(f"{names}: not an option of 'batchai {spec.name}'.")
        return OLD
    if ws_value:
        return NEW
    if spec.shape == "both":
        return OLD
    return NEW


def _option_names(cli_ctx: Any, spec: CommandSpec) -> Dict[str, str]:
    """dest -> "--long/-s" of the command's old-only options, for messages."""
    try:
        command = cli_ctx.invocation.commands_loader.command_table[spec.name]
    except (AttributeError, KeyError):
        return {}
    out = {}
    for dest in spec.old_args:
        argument = command.arguments.get(dest)
        if argument is not None:
            out[dest] = "/".join(argument.type.settings.get("options_list") or [])
    return out


class _NoCredentials:
    """Credentials stand-in: the local backend never authenticates (the azureml backend uses its own)."""

    def signed_session(self, session: Any = None) -> Any:  # msrest's credential protocol
        import requests

        return session or requests.Session()


def cli_credentials() -> Any:
    """Credentials for the clients the CLI builds.

    The local backend never authenticates (a stand-in object). For the ``azureml`` backend the CLI signs
    in as ``az`` users expect: azure-identity's ``AzureCliCredential`` (the ``az login`` session) when
    azure-identity is installed, else the stand-in, with which the backend reports that it needs usable
    credentials.
    """
    from batchai_compat.backends.registry import resolve

    backend, _ = resolve(None)
    if backend == "azureml":
        try:
            from azure.identity import AzureCliCredential
        except ImportError:
            return _NoCredentials()
        return AzureCliCredential()
    return _NoCredentials()


class CommandContext:
    """What a handler gets as ``cmd``: the CLI context, the chosen generation and client factories."""

    def __init__(self, cli_ctx: Any, spec: CommandSpec, args: Dict[str, Any]) -> None:
        self.cli_ctx = cli_ctx
        self.spec = spec
        self.name = spec.name
        subscription = args.pop("subscription", None)
        self.no_wait = bool(args.pop("no_wait", False)) if spec.supports_no_wait else False
        self.subscription_id: str = subscription or os.environ.get(ENV_SUBSCRIPTION) or DEFAULT_SUBSCRIPTION
        self.generation = choose_generation(spec, args, _option_names(cli_ctx, spec))
        self._clients: Dict[str, Any] = {}

    @property
    def old_shape(self) -> bool:
        """True when the command runs in the pre-workspace (2018-03-01) shape."""
        return self.generation != NEW

    @property
    def config(self) -> Any:
        """knack's CLIConfig (``$AZURE_CONFIG_DIR/config`` and ``AZURE_*`` variables)."""
        return self.cli_ctx.config

    def client(self, generation: Optional[str] = None) -> Any:
        """The ``BatchAIManagementClient`` of ``generation`` (default: the command's), on the configured backend."""
        gen = generation or self.generation
        if gen not in self._clients:
            # the 2.0.0 operation layer first: the old generations build on it (importing one of them
            # first once ran into an import cycle between _generations and operations)
            importlib.import_module("batchai_compat.operations")
            module = importlib.import_module(_CLIENT_PACKAGES[gen])
            self._clients[gen] = module.BatchAIManagementClient(cli_credentials(), self.subscription_id)
        return self._clients[gen]

    def models(self, generation: Optional[str] = None) -> Any:
        """The models module of ``generation`` (default: the command's)."""
        importlib.import_module("batchai_compat.operations")
        return importlib.import_module(_MODELS_PACKAGES[generation or self.generation])

    def storage_client(self) -> Any:
        """The local ``StorageManagementClient`` stand-in (auto-storage, key look-ups)."""
        from batchai_compat.storage_mgmt import StorageManagementClient

        return StorageManagementClient(_NoCredentials(), self.subscription_id)

    def resource_client(self) -> Any:
        """The local ``ResourceManagementClient`` stand-in (resource groups)."""
        from batchai_compat.resource import ResourceManagementClient

        return ResourceManagementClient(_NoCredentials(), self.subscription_id)

    def lro(self, poller: Any) -> Any:
        """Finish a long-running operation unless ``--no-wait`` was given (then print nothing, as az did)."""
        if self.no_wait:
            return None
        if hasattr(poller, "result"):
            return poller.result()
        return poller


# --------------------------------------------------------------------------------------------
# Output: azure-cli's todict + its resourceGroup transform
# --------------------------------------------------------------------------------------------

def _camel(name: str) -> str:
    parts = name.split("_")
    return parts[0] + "".join(p[:1].upper() + p[1:] for p in parts[1:])


def to_output(obj: Any) -> Any:
    """A result as azure-cli printed it.

    azure-cli-core's ``todict`` turns msrest models into dicts of their attributes with camelCase
    names (``vm_size`` -> ``vmSize``; the ``properties`` envelope of the wire body is flattened),
    datetimes into ISO strings, enums into values, named tuples into dicts with their field names;
    then its global transform adds ``resourceGroup`` (from the id) to every dict with an ARM ``id``.
    An empty ``additional_properties`` (msrest >= 0.6 adds it to every model; the 2018 SDK had none)
    is dropped. Pagers and pollers are consumed.
    """
    converted = _todict(obj)
    return _add_resource_group(converted)


def _todict(obj: Any) -> Any:
    if obj is None or isinstance(obj, (str, int, float, bool)):
        return obj
    if isinstance(obj, dict):
        return {k: _todict(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)) and not hasattr(obj, "_asdict"):
        return [_todict(v) for v in obj]
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, (datetime.date, datetime.time, datetime.datetime)):
        return obj.isoformat()
    if isinstance(obj, datetime.timedelta):
        return str(obj)
    if hasattr(obj, "_asdict"):
        return _todict(obj._asdict())
    if hasattr(obj, "result") and hasattr(obj, "done") and callable(obj.result):
        return _todict(obj.result())
    if hasattr(obj, "__iter__") and hasattr(obj, "next"):  # msrest Paged
        try:
            return [_todict(v) for v in obj]
        except TypeError:
            pass
    if hasattr(obj, "__dict__"):
        out: Dict[str, Any] = {}
        for key, value in obj.__dict__.items():
            if key.startswith("_") or callable(value):
                continue
            if key == "additional_properties" and not value:
                continue
            out[_camel(key)] = _todict(value)
        return out
    return obj


def _add_resource_group(obj: Any) -> Any:
    """azure-cli-core's ``_resource_group_transform``: ``resourceGroup`` for ids of resources in a group.

    As its ``_parse_id`` (azure-cli-core 2.0.x ``extensions/transform.py``): the id split on ``/`` must
    have ``resourceGroups`` as 4th segment and a name as 9th, so a resource group's own id gets none;
    ``sourceVault`` values are not visited; an existing ``resourceGroup`` is kept.
    """
    if isinstance(obj, list):
        for item in obj:
            _add_resource_group(item)
    elif isinstance(obj, dict):
        for key, value in obj.items():
            if key != "sourceVault":
                _add_resource_group(value)
        rid = obj.get("id")
        if rid and isinstance(rid, str) and "resourceGroup" not in obj:
            parts = rid.split("/")
            if len(parts) > 8 and parts[3].lower() == "resourcegroups":
                obj["resourceGroup"] = parts[4]
    return obj


# --------------------------------------------------------------------------------------------
# The CLI object
# --------------------------------------------------------------------------------------------


def azure_config_dir() -> str:
    """``$AZURE_CONFIG_DIR``, else ``~/.azure``: where ``az configure --defaults`` writes ``config``."""
    return os.path.expanduser(os.environ.get("AZURE_CONFIG_DIR") or os.path.join("~", ".azure"))


def legacy_option_strings(command: Any) -> set:
    """The old CLIs' long option strings of a command: its ``legacy_options`` and those of its ``old_args``.

    An abbreviation matching one of these and a 0.4.10 option resolves to the 0.4.10 option.
    """
    spec = getattr(command, "spec", None)
    if spec is None:
        return set()
    legacy = set(spec.legacy_options)
    for dest in spec.old_args:
        argument = command.arguments.get(dest)
        if argument is not None:
            legacy.update(o for o in argument.type.settings.get("options_list") or [] if o.startswith("--"))
    return legacy


class BatchAIParser(CLICommandParser):
    """azure-cli-core's argument errors: ``ERROR: <prog>: error: <message>`` first, then the usage, exit 2."""

    def error(self, message: str) -> NoReturn:  # type: ignore[override]
        logger.error("%(prog)s: error: %(message)s", {"prog": self.prog, "message": message})
        self.print_usage(sys.stderr)
        sys.exit(2)

    def validation_error(self, message: str) -> NoReturn:
        self.error(message)

    def _legacy_options(self) -> set:
        return legacy_option_strings(self._defaults.get("func"))

    def _get_option_tuples(self, option_string: str) -> Any:
        """argparse's abbreviation candidates, with 0.4.10's options winning over the old CLIs' spellings.

        ``--co`` on ``cluster create`` meant ``--config-file`` in 0.4.10; the 0.2.x aliases
        ``--container-name`` / ``--container-mount-path`` must not make it ambiguous. Two spellings of
        one option (``--bfs-name`` / ``--container-name``) count once.
        """
        result = super()._get_option_tuples(option_string)
        if len(result) > 1:
            legacy = self._legacy_options()
            preferred = [t for t in result if t[1] not in legacy]
            if preferred:
                result = preferred
            unique, seen = [], set()
            for item in result:
                if id(item[0]) not in seen:
                    seen.add(id(item[0]))
                    unique.append(item)
            result = unique
        return result


class BatchAIInvoker(CommandInvoker):
    """knack's invoker; errors of the generation rule surface as CLIError (exit 1)."""


class BatchAICLI(CLI):
    """knack CLI named ``batchai`` reading the Azure CLI's config (``[defaults]``, ``AZURE_*`` variables)."""

    def __init__(self, **kwargs: Any) -> None:
        from batchai_compat.cli._help import BatchAIHelp

        super().__init__(cli_name=CLI_NAME, config_dir=azure_config_dir(), config_env_var_prefix="AZURE",
                         commands_loader_cls=BatchAICommandsLoader, invocation_cls=BatchAIInvoker,
                         parser_cls=BatchAIParser,
                         help_cls=BatchAIHelp, **kwargs)

    def get_cli_version(self) -> str:
        from batchai_compat._version import VERSION

        return VERSION

    def exception_handler(self, ex: BaseException) -> int:  # type: ignore[override]
        """azure-cli's error style: ``ERROR: <message>`` on stderr, exit code 1 (see docs/cli.md)."""
        return handle_exception(ex)


def handle_exception(ex: BaseException) -> int:
    """Map an exception to azure-cli's message and exit code.

    CLIError and service errors (CloudError) print their message and exit 1, as azure-cli-core 2.0.x
    (the versions that shipped with azure-cli-batchai 0.4.10) did; a missing or unreadable config file
    (OSError) and bad JSON (ValueError) print the Python message, also exit 1; KeyboardInterrupt exits 1.
    """
    if isinstance(ex, KeyboardInterrupt):
        return 1
    if isinstance(ex, BrokenPipeError):  # output piped into a reader that left (`| head`)
        _silence_stdout()
        return 1
    if isinstance(ex, CLIError):
        logger.error(ex.args[0] if ex.args else str(ex))
        return ex.args[1] if len(ex.args) >= 2 and isinstance(ex.args[1], int) else 1
    message = _service_error_message(ex)
    if message is not None:
        logger.error(message)
        return 1
    if isinstance(ex, (OSError, ValueError)):
        logger.error(str(ex))
        return 1
    logger.error("The command failed with an unexpected error. Here is the traceback:\n")
    logger.exception(ex)
    return 1


def _service_error_message(ex: BaseException) -> Optional[str]:
    """The message azure-cli printed for a CloudError (``message`` attribute), else None."""
    try:
        from msrestazure.azure_exceptions import CloudError
    except ImportError:  # pragma: no cover - msrestazure is a dependency of the package
        return None
    if isinstance(ex, CloudError):
        return str(ex.message) if getattr(ex, "message", None) else str(ex)
    try:
        from msrest.exceptions import ClientException, ValidationError
    except ImportError:  # pragma: no cover
        return None
    if isinstance(ex, ValidationError):  # azure-cli-core: logger.error('validation error: %s', ex)
        return f"validation error: {ex}"
    if isinstance(ex, ClientException):
        return str(ex)
    return None


def get_cli(**kwargs: Any) -> BatchAICLI:
    """A fresh CLI object (one per invocation: knack keeps per-invocation state on it)."""
    return BatchAICLI(**kwargs)


def run(argv: Optional[Sequence[str]] = None, out_file: Any = None) -> int:
    """Run one command line; returns the exit code (stdout/stderr as the real command)."""
    args = list(sys.argv[1:] if argv is None else argv)
    cli = get_cli(out_file=out_file or sys.stdout)
    try:
        return int(cli.invoke(args) or 0)
    except SystemExit as exc:  # argparse errors (2), --help (0)
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except BrokenPipeError:  # `batchai ... | head`: the reader left; say nothing more
        _silence_stdout()
        return 1


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not complain about the closed pipe."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real stdout (tests capture it)
        pass


# --------------------------------------------------------------------------------------------
# Introspection for the parity checks
# --------------------------------------------------------------------------------------------


def describe_commands() -> Dict[str, Dict[str, Any]]:
    """Every command with every argument: option strings, required, choices, default, arg group.

    ``{"cluster create": {"shape": "both", "supports_no_wait": False, "confirmation": False,
    "arguments": {"cluster_name": {"options": ["--name", "-n"], "required": True, "choices": None,
    "default": None, "arg_group": None, "action": None}, ...}}, ...}``. Framework-added arguments
    (``--subscription``) are included under their dest ``subscription``.
    """
    cli = get_cli(out_file=open(os.devnull, "w"))  # noqa: SIM115 - knack keeps the handle
    loader = cli.commands_loader_cls(cli_ctx=cli)
    loader.skip_applicability = True  # every argument context applies (no command line to match)
    loader.load_command_table(None)
    out: Dict[str, Dict[str, Any]] = OrderedDict()
    for name in sorted(loader.command_table):
        loader.load_arguments(name)
        command = loader.command_table[name]
        arguments: Dict[str, Any] = OrderedDict()
        for dest, argument in command.arguments.items():
            settings = argument.type.settings
            if settings.get("help") == "==SUPPRESS==":
                continue
            default = settings.get("default")
            arguments[dest] = {
                "options": list(settings.get("options_list") or []),
                "required": bool(settings.get("required", False)),
                "choices": list(settings["choices"]) if settings.get("choices") else None,
                "default": _plain(default),
                "arg_group": settings.get("arg_group"),
                "action": settings.get("action") if isinstance(settings.get("action"), str) else None,
                "configured_default": settings.get("configured_default"),
            }
        spec: CommandSpec = command.spec
        out[name] = {"shape": spec.shape, "supports_no_wait": spec.supports_no_wait,
                     "confirmation": bool(command.confirmation), "show": spec.show,
                     "ids": bool(spec.id_parts), "legacy_options": sorted(legacy_option_strings(command)),
                     "arguments": arguments}
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return repr(value)


def iter_command_names(names: Iterable[str]) -> List[str]:
    """Sorted command names (helper for tests)."""
    return sorted(names)


__all__ = ["BatchAICLI", "BatchAICommandsLoader", "CommandContext", "CommandSpec", "GenerationError", "NEW", "OLD",
           "command_group", "choose_generation", "describe_commands", "run", "to_output", "handle_exception"]
