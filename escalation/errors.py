"""The errors of the escalation package: a branch of ``voiceline.errors``' tree.

EscalationError(InvalidInput)    bad input to pure escalation code; nothing was changed
├── PolicyError                 a policy, step, target or delay that cannot be used
└── StateError                  a stored state that cannot be read, or a naive time
"""

from voiceline.errors import InvalidInput


class EscalationError(InvalidInput):
    """Bad input to the escalation package, with the reason; nothing was changed."""


class PolicyError(EscalationError):
    """A policy or a delay that cannot be used, with the reason."""


class StateError(EscalationError):
    """A stored escalation state or a time that cannot be used, with the reason."""
