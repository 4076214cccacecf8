"""Cells of the CSV files the platform writes, made safe to open in a spreadsheet.

A text cell starting with = + - @ (or a tab or carriage return) is read by Excel and LibreOffice as a
formula, which can run commands or send data away (OWASP "CSV injection"). Such a cell gets a leading
apostrophe, which spreadsheets show as text. A plain number ("-12.5", "-3,2") is left as it is.
"""
from __future__ import annotations

import re

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)?")


def safe_cell(value):
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value
