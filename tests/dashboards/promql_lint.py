"""Check that PromQL expressions name only series and labels redtap exports.

Prometheus parses a query with a misspelt metric or label happily and returns
nothing, so a typo in a dashboard or rule shows up only as "No data". This
module finds the selectors, matchers and grouping labels of an expression
(without a full parser: strings and range brackets are blanked first) and
compares them with scripts/slo/catalog.py.

    problems(expr, recorded=()) -> list of messages, empty when clean
"""

import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "scripts", "slo"))

import catalog  # noqa: E402

SERIES = catalog.series_labels()
ALL_LABELS = frozenset().union(*SERIES.values()) | {"__name__"}
# Labels that rules add to what they record.
RECORDED_LABELS = frozenset({"slo", "sli"})

KEYWORDS = frozenset({"and", "or", "unless", "by", "without", "on", "ignoring", "group_left",
                      "group_right", "bool", "offset", "atan2", "Inf", "NaN", "inf", "nan"})

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_RANGE = re.compile(r"\[[^\]]*\]")
_GROUPING = re.compile(r"\b(by|without|on|ignoring|group_left|group_right)\s*\(([^()]*)\)")
_SELECTOR = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*\{([^{}]*)\}")
_MATCHER = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(\"(?:[^\"\\]|\\.)*\")")
_NUMBER = re.compile(r"(?<![a-zA-Z0-9_:.])\d+(\.\d+)?([eE][+-]?\d+)?")
_IDENT = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")


def _name_regex_values(value):
    """Plain metric names listed in a __name__=~"a|b" matcher value, or None."""
    names = value.split("|")
    if all(re.fullmatch(r"[a-zA-Z_:][a-zA-Z0-9_:]*", n) for n in names):
        return names
    return None


def _check_series(name, labels, recorded, out):
    if name in SERIES:
        for label in labels:
            if label != "__name__" and label not in SERIES[name]:
                out.append("label %s is not exported on %s" % (label, name))
    elif name not in recorded:
        out.append("unknown series %s" % name)


def problems(expr, recorded=()):
    """Return a list of problems with the names in PromQL `expr` (empty if none).

    `recorded` holds the names of recording rules the expression may use.
    """
    out = []
    recorded = frozenset(recorded)

    # Selectors with matchers, read before strings are blanked.
    body = _RANGE.sub("[]", expr) if "[" in expr else expr
    selectors = []
    for m in _SELECTOR.finditer(body):
        labels, name = [], m.group(1)
        for lm in _MATCHER.finditer(m.group(2)):
            labels.append(lm.group(1))
            if lm.group(1) == "__name__":
                values = _name_regex_values(lm.group(3)[1:-1])
                if values is None:
                    out.append("cannot check __name__ matcher %s" % lm.group(3))
                    continue
                for v in values:
                    selectors.append((v, labels))
        if name and name not in KEYWORDS:
            selectors.append((name, labels))
    for name, labels in selectors:
        _check_series(name, [lb for lb in labels if lb != "__name__"], recorded, out)

    rest = _STRING.sub('""', expr)
    rest = _RANGE.sub("[]", rest)
    for m in _GROUPING.finditer(rest):
        for label in filter(None, (x.strip() for x in m.group(2).split(","))):
            if label not in ALL_LABELS and label not in RECORDED_LABELS:
                out.append("grouping label %s is not exported by redtap" % label)
    rest = _GROUPING.sub(" ", rest)
    rest = re.sub(r"\{[^{}]*\}", " ", rest)
    rest = _NUMBER.sub(" ", rest)
    for m in _IDENT.finditer(rest):
        word = m.group(0)
        tail = rest[m.end():].lstrip()
        if word in KEYWORDS or tail.startswith("("):
            continue
        if any(word == s for s, _ in selectors):
            continue
        _check_series(word, [], recorded, out)
    return out


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        for p in problems(arg):
            print(p)
