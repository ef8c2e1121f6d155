"""Telegram glue: each module an area, whose commands are declared with their handlers
(handlers.framework.command). The order of AREAS is the order /help and the menus list the
commands in; importing the package imports them all, so every command is declared."""

from handlers import (
    appeals,
    audit,
    broadcasts,
    exports,
    join_requests,
    membership,
    onboarding,
    preferences,
    privacy,
    signatures,
    timeline,
)
from handlers.menu import arrange

AREAS = (
    onboarding,
    join_requests,
    appeals,
    signatures,
    timeline,
    membership,
    broadcasts,
    exports,
    audit,
    privacy,
    preferences,
)
arrange([area.__name__ for area in AREAS])
