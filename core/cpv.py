"""The CPV codes (Regulation (EC) 213/2008) the platform knows. DOMAIN.md: validate against a list, the
check digit is not computable. Files often give a code without its check digit ("30213100"): it is
completed from this list."""
from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

CPV_CODES = {
    "30000000-9": _l("Office and computing machinery, equipment and supplies"),
    "30200000-1": _l("Computer equipment and supplies"),
    "30213000-5": _l("Personal computers"),
    "30213100-6": _l("Portable computers"),
    "30213200-7": _l("Tablets"),
    "30213300-8": _l("Desktop computers"),
    "30231100-8": _l("Computer terminals"),
    "30231300-0": _l("Display screens"),
    "30232100-5": _l("Printers"),
    "30232110-8": _l("Laser printers"),
    "30237200-1": _l("Computer accessories"),
    "32250000-0": _l("Mobile telephones"),
    "32420000-3": _l("Network equipment"),
    "38652120-7": _l("Video projectors"),
    "48820000-2": _l("Servers"),
    "50312000-5": _l("Maintenance and repair of computer equipment"),
    "50320000-4": _l("Repair of personal computers"),
    "90511000-2": _l("Refuse collection"),
    "90514000-3": _l("Refuse recycling services"),
}
_BY_STEM = {code[:8]: code for code in CPV_CODES}
CPV_PATTERN = re.compile(r"^(\d{8})(?:-(\d))?$")


def normalise(code: str | None) -> str | None:
    """The known code with its check digit, or None when the code is not in the list (or malformed)."""
    match = CPV_PATTERN.match((code or "").strip())
    if not match:
        return None
    known = _BY_STEM.get(match.group(1))
    if known is None or (match.group(2) is not None and known != match.group(0)):
        return None
    return known


def is_known(code: str | None) -> bool:
    return normalise(code) is not None


def label(code: str) -> str:
    return str(CPV_CODES.get(code, ""))
