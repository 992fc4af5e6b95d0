"""Settings: every missing or malformed variable is named in one line."""

import subprocess
import sys

import pytest

from voiceline.config import ConfigError, load_settings

GOOD = {"SECRET_KEY": "x" * 32}


def test_defaults_need_only_a_secret_key() -> None:
    settings = load_settings(GOOD)
    assert settings.database_url.startswith("sqlite:///")
    assert settings.public_url == "http://127.0.0.1:5000"
    assert not settings.has_twilio_credentials
    assert settings.twilio_api_base_url == "https://api.twilio.com"
    assert settings.answer_deadline_seconds == 1.2
    assert (
        load_settings({**GOOD, "VOICELINE_ANSWER_DEADLINE_SECONDS": "3"}).answer_deadline_seconds
        == 3
    )


@pytest.mark.parametrize(
    "env, variable",
    [
        ({}, "SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY"),
        ({**GOOD, "DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
        ({**GOOD, "VOICELINE_PUBLIC_URL": "voiceline.example.com"}, "VOICELINE_PUBLIC_URL"),
        ({**GOOD, "VOICELINE_PUBLIC_URL": "https://x.example/?a=1"}, "VOICELINE_PUBLIC_URL"),
        ({**GOOD, "TWILIO_ACCOUNT_SID": "AC" + "0" * 32}, "TWILIO_AUTH_TOKEN"),
        ({**GOOD, "TWILIO_AUTH_TOKEN": "t"}, "TWILIO_ACCOUNT_SID"),
        ({**GOOD, "TWILIO_ACCOUNT_SID": "nope", "TWILIO_AUTH_TOKEN": "t"}, "TWILIO_ACCOUNT_SID"),
        ({**GOOD, "TWILIO_API_BASE_URL": "ftp://x"}, "TWILIO_API_BASE_URL"),
        ({**GOOD, "TWILIO_FROM_NUMBER": "12"}, "TWILIO_FROM_NUMBER"),
        ({**GOOD, "TWILIO_SECONDARY_AUTH_TOKEN": "t"}, "TWILIO_SECONDARY_AUTH_TOKEN"),
        ({**GOOD, "SMTP_URL": "http://mail.example.com"}, "SMTP_URL"),
        ({**GOOD, "SMTP_URL": "smtp://mail.example.com"}, "VOICELINE_REPORT_FROM"),
        ({**GOOD, "VOICELINE_ANSWER_DEADLINE_SECONDS": "0"}, "VOICELINE_ANSWER_DEADLINE_SECONDS"),
        ({**GOOD, "VOICELINE_ANSWER_DEADLINE_SECONDS": "15"}, "VOICELINE_ANSWER_DEADLINE_SECONDS"),
        (
            {**GOOD, "VOICELINE_ANSWER_DEADLINE_SECONDS": "soon"},
            "VOICELINE_ANSWER_DEADLINE_SECONDS",
        ),
    ],
)
def test_bad_settings_name_the_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        load_settings(env)


def test_heroku_style_postgres_urls_use_psycopg() -> None:
    settings = load_settings({**GOOD, "DATABASE_URL": "postgres://u@h/db"})
    assert settings.database_url == "postgresql+psycopg://u@h/db"


def test_cli_reports_a_missing_variable_in_one_line_without_traceback(tmp_path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "voiceline.cli", "db", "upgrade"],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "voiceline: configuration error: SECRET_KEY is not set; set it to a long random string"
    ]
    assert "Traceback" not in result.stderr
