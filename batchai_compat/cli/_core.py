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
import re
import sys
from collections import OrderedDict
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from knack import CLI
from knack.arguments import ArgumentsContext, CLICommandArgument
from knack.commands import CLICommand, CLICommandsLoader, CommandGroup
from knack.invocation import CommandInvoker
from knack.log import get_logger
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
                 old_args: Sequence[str] = (), supports_no_wait: bool = False) -> None:
        self.name = name
        self.operation = operation
        #: "new": only the 2018-05-01 shape; "old": an old-only command name (``cluster list-nodes``);
        #: "both": new when a workspace is given or configured, old otherwise.
        self.shape = shape
        self.workspace_arg = workspace_arg
        self.old_args = tuple(old_args)
        self.supports_no_wait = supports_no_wait


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
        for module in self._modules:
            module.load_arguments(self)
        super().load_arguments(command)

    def create_command(self, name: str, operation: str, **kwargs: Any) -> Any:  # type: ignore[override]
        spec = CommandSpec(name, operation, shape=kwargs.pop("shape", "new"),
                           workspace_arg=kwargs.pop("workspace_arg", None),
                           old_args=kwargs.pop("old_args", ()),
                           supports_no_wait=kwargs.pop("supports_no_wait", False))
        loader = self

        def arguments_loader() -> List[Tuple[str, CLICommandArgument]]:
            from knack.introspection import extract_args_from_signature

            args = list(extract_args_from_signature(_handler(operation),
                                                    excluded_params=loader.excluded_command_handler_args))
            if spec.supports_no_wait:
                args.append(("no_wait", CLICommandArgument(
                    "no_wait", options_list=["--no-wait"], action="store_true", default=False,
                    help="Do not wait for the long-running operation to finish.")))
            args.append(("_subscription", CLICommandArgument(
                "_subscription", options_list=["--subscription"], arg_group="Global", default=None, metavar="ID",
                help="Subscription id (default: $BATCHAI_COMPAT_SUBSCRIPTION, else "
                     f"{DEFAULT_SUBSCRIPTION}).")))
            return args

        def description_loader() -> str:
            from knack.introspection import extract_full_summary_from_signature

            return extract_full_summary_from_signature(_handler(operation))  # type: ignore[no-any-return]

        def command_handler(command_args: Dict[str, Any]) -> Any:
            ctx = CommandContext(loader.cli_ctx, spec, command_args)
            handler = _handler(operation)
            result = handler(ctx, **command_args)
            return to_output(result)

        kwargs["arguments_loader"] = arguments_loader
        kwargs["description_loader"] = description_loader
        command = BatchAICommand(self.cli_ctx, name, command_handler, **kwargs)
        command.spec = spec
        return command


def command_group(loader: BatchAICommandsLoader, group: str, module: str, **kwargs: Any) -> CommandGroup:
    """A knack ``CommandGroup`` for ``batchai <group>`` whose handlers are functions of ``module``.

    ``g.command(name, function_name, table_transformer=..., confirmation=True, supports_no_wait=True,
    shape="both"|"new"|"old", workspace_arg="workspace_name", old_args=("location", ...))``.
    """
    kwargs.setdefault("deprecate_info", None)
    return CommandGroup(loader, group, module + "#{}", **kwargs)


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


class CommandContext:
    """What a handler gets as ``cmd``: the CLI context, the chosen generation and client factories."""

    def __init__(self, cli_ctx: Any, spec: CommandSpec, args: Dict[str, Any]) -> None:
        self.cli_ctx = cli_ctx
        self.spec = spec
        self.name = spec.name
        subscription = args.pop("_subscription", None)
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
            module = importlib.import_module(_CLIENT_PACKAGES[gen])
            self._clients[gen] = module.BatchAIManagementClient(_NoCredentials(), self.subscription_id)
        return self._clients[gen]

    def models(self, generation: Optional[str] = None) -> Any:
        """The models module of ``generation`` (default: the command's)."""
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

_RG_RE = re.compile(r"/resourcegroups/([^/]+)", re.IGNORECASE)


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
    if isinstance(obj, list):
        for item in obj:
            _add_resource_group(item)
    elif isinstance(obj, dict):
        for value in obj.values():
            _add_resource_group(value)
        rid = obj.get("id")
        if isinstance(rid, str) and "resourceGroup" not in obj:
            match = _RG_RE.search(rid)
            if match:
                obj["resourceGroup"] = match.group(1)
    return obj


# --------------------------------------------------------------------------------------------
# The CLI object
# --------------------------------------------------------------------------------------------


def azure_config_dir() -> str:
    """``$AZURE_CONFIG_DIR``, else ``~/.azure``: where ``az configure --defaults`` writes ``config``."""
    return os.path.expanduser(os.environ.get("AZURE_CONFIG_DIR") or os.path.join("~", ".azure"))


class BatchAIInvoker(CommandInvoker):
    """knack's invoker; errors of the generation rule surface as CLIError (exit 1)."""


class BatchAICLI(CLI):
    """knack CLI named ``batchai`` reading the Azure CLI's config (``[defaults]``, ``AZURE_*`` variables)."""

    def __init__(self, **kwargs: Any) -> None:
        from batchai_compat.cli._help import BatchAIHelp

        super().__init__(cli_name=CLI_NAME, config_dir=azure_config_dir(), config_env_var_prefix="AZURE",
                         commands_loader_cls=BatchAICommandsLoader, invocation_cls=BatchAIInvoker,
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


# --------------------------------------------------------------------------------------------
# Introspection for the parity checks
# --------------------------------------------------------------------------------------------


def describe_commands() -> Dict[str, Dict[str, Any]]:
    """Every command with every argument: option strings, required, choices, default, arg group.

    ``{"cluster create": {"shape": "both", "supports_no_wait": False, "confirmation": False,
    "arguments": {"cluster_name": {"options": ["--name", "-n"], "required": True, "choices": None,
    "default": None, "arg_group": None, "action": None}, ...}}, ...}``. Framework-added arguments
    (``--subscription``) are included under their dest ``_subscription``.
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
                     "confirmation": bool(command.confirmation), "arguments": arguments}
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
