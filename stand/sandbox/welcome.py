"""The bot's greeting to the sandbox's organiser, so that her chat does not open empty."""

from markupsafe import Markup

from foundation.i18n import Texts


def welcome(texts: Texts) -> Markup:
    """What an organiser new to the sandbox can do first, in a few short lines."""
    return texts.t(
        "<b>Welcome, organiser.</b> Here the coalition and its members are simulated.\n"
        "/help lists what you can do; /appeals shows the appeal open for signatures.\n"
        "Switch to a member in the list of people to co-sign as them.\n"
        "The clock buttons move time forward, to see reminders and deadlines happen."
    )
