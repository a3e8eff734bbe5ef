"""Small input checks shared by forms."""

from email_validator import EmailNotValidError, validate_email

from kefu.core.errors import InvalidInput


def valid_email(value: str) -> str:
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise InvalidInput("Please enter a valid email address.") from exc
