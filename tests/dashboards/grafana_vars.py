"""Substitute Grafana template variables in PromQL the way Grafana does.

Grafana's Prometheus data source interpolates a multi-value or "include
All" variable as a regex: each value regex-escaped, several joined with |,
and "All" as the variable's allValue. The escaping doubles backslashes,
since the regex sits inside a PromQL string.

    substitute(expr, values, variables) -> expr with no $variables left
    dashboard_variables(dashboard) -> {name: variable dict}
"""

import re

# Grafana's built-in variables, with the values the checks use.
BUILTINS = {
    "__rate_interval": "1m",
    "__interval": "15s",
    "__interval_ms": "15000",
    "__range": "5m",
    "__range_s": "300",
    "__range_ms": "300000",
}
ALL = "All"

_VAR = re.compile(r"\$\{([a-zA-Z_][a-zA-Z0-9_]*)(?::[a-zA-Z]+)?\}|\$([a-zA-Z_][a-zA-Z0-9_]*)"
                  r"|\[\[([a-zA-Z_][a-zA-Z0-9_]*)\]\]")
_REGEX_SPECIAL = re.compile(r"([\\^$.|?*+()\[\]{}])")


class UnknownVariable(KeyError):
    """A query refers to a variable the dashboard does not define."""


def dashboard_variables(dashboard):
    return {v["name"]: v for v in dashboard.get("templating", {}).get("list", [])}


def regex_value(value):
    """A user value as Grafana puts it into a regex matcher: escaped, backslashes doubled."""
    return _REGEX_SPECIAL.sub(r"\\\\\1", value)


def names(expr):
    """The variable names referenced in expr."""
    return [next(g for g in m.groups() if g) for m in _VAR.finditer(expr)]


def substitute(expr, values, variables):
    """Replace every variable in expr.

    values: {name: value}; the value "All" selects the variable's allValue.
    variables: the dashboard's variables (for allValue); a variable with no
    value given defaults to All. Raises UnknownVariable for anything else.
    """
    def repl(m):
        name = next(g for g in m.groups() if g)
        if name in BUILTINS:
            return BUILTINS[name]
        if name not in variables:
            raise UnknownVariable(name)
        var = variables[name]
        value = values.get(name, ALL)
        if value == ALL:
            if not var.get("includeAll"):
                raise UnknownVariable("%s (no value given and it has no All option)" % name)
            return var.get("allValue") or ".*"
        if var.get("multi") or var.get("includeAll"):
            return regex_value(value)
        return value.replace("\\", "\\\\").replace('"', '\\"')
    return _VAR.sub(repl, expr)
