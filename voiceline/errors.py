"""Every error Voiceline raises on purpose, as one tree under ``VoicelineError``.

    VoicelineError                      catch this to catch anything of ours
    ├── InvalidInput (ValueError)       bad input, with the reason; nothing was changed
    │   ├── ConfigError                 an environment variable is missing or malformed
    │   ├── PhoneNumberError            not a phone number we can dial
    │   ├── HoursError                  weekly hours or a time zone that cannot be used
    │   ├── PasswordError               an admin password that is too weak
    │   ├── MailError                   SMTP settings, an address, or the server refused
    │   ├── DirectoryError              a directory file that cannot be loaded (file:line)
    │   ├── YamlError                   a document that cannot be read as directory YAML
    │   ├── EntryRefused                an edit from the admin page, each problem by its field
    │   ├── CalendarError               a business calendar that cannot be used
    │   │   └── CalendarNeverOpens      ... because it is never open
    │   ├── EntitlementError            a plan's terms that cannot be decided on
    │   ├── SlaMathError                SLA arithmetic on impossible values
    │   │   └── CreditRuleError         a plan's credit rule that cannot be read
    │   ├── SlaError                    an SLA clock action that does not apply
    │   ├── ReportError                 a report month or filter that cannot be used
    │   ├── UnknownEntry (LookupError)  no parked spool entry has that name
    │   ├── FormattingError             a time, zone or amount an admin page cannot write
    │   ├── FilterError                 an incident-list filter or page link it cannot read
    │   ├── OnCallError                 rotas: what to fix is in the message
    │   │   ├── NaiveTimeError          a time without a zone
    │   │   ├── RotationError           a rotation that cannot be used
    │   │   ├── ScheduleError           a schedule or layer that cannot be used
    │   │   │   └── OverrideError       an override that cannot be placed
    │   │   └── FormError               an admin form field, named
    │   └── EscalationError             bad input to pure escalation code
    │       ├── PolicyError             a policy, step, target or delay
    │       └── StateError              a stored state or a naive time
    ├── TelephonyError                  the telephony provider refused or was unreachable
    ├── WorkerRefused                   another worker holds the single-worker lock
    ├── DeadlinePassed (TimeoutError)   the database did not answer before a deadline
    └── DemoError                       the demo could not start

``InvalidInput`` is a ``ValueError`` too, so code that validates with ``except
ValueError`` keeps working. Bugs are not in the tree: they stay ordinary exceptions.
"""

from __future__ import annotations


class VoicelineError(Exception):
    """The root of every error Voiceline raises on purpose."""


class InvalidInput(VoicelineError, ValueError):
    """Bad input, with the reason; nothing was changed."""
