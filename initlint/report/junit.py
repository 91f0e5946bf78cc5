"""The `junit` format: JUnit XML, one test suite per file and one failed test case per finding (as Ruff's)."""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET
from itertools import groupby

from initlint.findings import Finding
from initlint.report import display_path, printable, sort_findings


def render_junit(findings: list[Finding]) -> str:
    cwd = os.getcwd()
    ordered = sort_findings(findings)
    suites = ET.Element("testsuites", name="initlint", tests=str(len(ordered)), failures=str(len(ordered)), errors="0")
    if not ordered:
        suite = ET.SubElement(suites, "testsuite", name="initlint", tests="1", failures="0", errors="0")
        ET.SubElement(suite, "testcase", name="No findings", classname="initlint")
    for path, group in groupby(ordered, key=lambda f: display_path(f.path, cwd)):
        group = list(group)
        suite = ET.SubElement(suites, "testsuite", name=path, tests=str(len(group)), failures=str(len(group)),
                              errors="0")
        for f in group:
            case = ET.SubElement(suite, "testcase", name=f"org.initlint.{f.code}", classname=path,
                                 line=str(f.start.row), column=str(f.start.column))
            message = printable(f.message)  # XML 1.0 cannot carry control characters
            failure = ET.SubElement(case, "failure", message=message, type=f.code)
            failure.text = f"line {f.start.row}, col {f.start.column}, {message}"
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
