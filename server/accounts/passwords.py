"""Password rules beyond the length the schema checks: not one of the commonly used ones.

common_passwords.txt is the 30,000-entry "passwords" frequency list of the zxcvbn package
(4.5.0 on PyPI, MIT licence; from zxcvbn/frequency_lists.py), one lower-case entry a line.
Only its entries of 10 characters or more can matter while the minimum length is 10.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from server.errors import Invalid

LIST = Path(__file__).with_name("common_passwords.txt")


@cache
def _common() -> frozenset[str]:
    return frozenset(line for line in LIST.read_text(encoding="utf-8").splitlines() if line)


def check_password(password: str) -> None:
    """Refuse a password on the common-passwords list, whatever its letters' case."""
    if password.lower() in _common():
        raise Invalid("this password is on a list of commonly used passwords: choose another",
                      [{"key": "password", "message": "commonly used"}])
