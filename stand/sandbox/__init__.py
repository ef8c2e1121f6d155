"""The sandbox: the whole bot on one machine, without Telegram, in a web page."""

from stand.sandbox.run import run_sandbox

__all__ = ["run_sandbox"]
