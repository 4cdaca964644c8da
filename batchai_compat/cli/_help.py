"""Help for ``batchai``: knack's help layout (the Azure CLI's), with a welcome text of our own."""

from __future__ import annotations

from knack.help import CLIHelp

WELCOME = """
batchai: the Azure Batch AI command line (az batchai) on batchai_compat.

Commands and options are those of `az batchai` (azure-cli-batchai 0.4.10, API 2018-05-01); the
pre-workspace spellings of the 2018-03-01 / 2017-09-01-preview CLIs are accepted too.
Backend: $BATCHAI_COMPAT_BACKEND, else the batchai_compat config file, else local.
"""


class BatchAIHelp(CLIHelp):
    """knack's help with the batchai welcome text."""

    def __init__(self, cli_ctx: object = None) -> None:
        super().__init__(cli_ctx=cli_ctx, welcome_message=WELCOME)
