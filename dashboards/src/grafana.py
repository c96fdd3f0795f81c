"""A small builder for Grafana dashboards in the classic JSON model.

The dashboards in dashboards/*.json are generated from the modules next to
this one (dashboards/src/build.py writes them) so that every panel gets the
same data source reference, unique ids and a grid position from one layout
routine instead of by hand. Everything here returns plain dicts and lists
ready for json.dump; nothing talks to Grafana.

Conventions every dashboard follows:
  - a data source variable named "datasource" (type prometheus); every panel
    and every target refers to it as {"type": "prometheus", "uid": "${datasource}"};
  - no ids, uids or URLs of one installation: the dashboard id is null and
    links between dashboards go by tag;
  - panels are laid out left to right on the 24-column grid, wrapping to a
    new line; row() starts a titled row.
"""

SCHEMA_VERSION = 42  # Grafana 12.x/13.x classic model (@grafana/schema defaultDashboard)
GRID_WIDTH = 24
DS = {"type": "prometheus", "uid": "${datasource}"}
TAG = "redtap"


def prom(expr, legend="", instant=False, exemplar=False, fmt=None, interval=None):
    """A Prometheus query target. refId is assigned when the panel is built."""
    target = {
        "datasource": dict(DS),
        "editorMode": "code",
        "expr": expr,
        "legendFormat": legend or "__auto",
        "range": not instant,
        "instant": instant,
        "exemplar": exemplar,
    }
    if fmt:
        target["format"] = fmt
    if interval:
        target["interval"] = interval
    return target


def _thresholds(steps):
    """steps: [(value or None, color)], the first value must be None (base)."""
    return {"mode": "absolute",
            "steps": [{"color": color, "value": value} for value, color in steps]}


_GREEN = [(None, "green")]


def _field_defaults(unit, steps, decimals=None, min_=None, max_=None, custom=None,
                    color=None, links=None):
    d = {
        "color": color or {"mode": "palette-classic"},
        "mappings": [],
        "thresholds": _thresholds(steps or _GREEN),
        "unit": unit,
    }
    if custom is not None:
        d["custom"] = custom
    if decimals is not None:
        d["decimals"] = decimals
    if min_ is not None:
        d["min"] = min_
    if max_ is not None:
        d["max"] = max_
    if links:
        d["links"] = links
    return d


def _hide_from():
    return {"legend": False, "tooltip": False, "viz": False}


def _graph_custom(stack=False, fill=10, draw="line"):
    return {
        "axisBorderShow": False,
        "axisCenteredZero": False,
        "axisColorMode": "text",
        "axisLabel": "",
        "axisPlacement": "auto",
        "barAlignment": 0,
        "drawStyle": draw,
        "fillOpacity": fill,
        "gradientMode": "none",
        "hideFrom": _hide_from(),
        "insertNulls": False,
        "lineInterpolation": "linear",
        "lineWidth": 1,
        "pointSize": 4,
        "scaleDistribution": {"type": "linear"},
        "showPoints": "never",
        "spanNulls": False,
        "stacking": {"group": "A", "mode": "normal" if stack else "none"},
        "thresholdsStyle": {"mode": "off"},
    }


def _panel(kind, title, description, targets, options, field_defaults, overrides=None,
           transformations=None, links=None):
    p = {
        "type": kind,
        "title": title,
        "description": description,
        "datasource": dict(DS),
        "targets": targets,
        "options": options,
        "fieldConfig": {"defaults": field_defaults, "overrides": overrides or []},
    }
    if transformations:
        p["transformations"] = transformations
    if links:
        p["links"] = links
    return p


def timeseries(title, description, targets, unit, stack=False, min_=0, max_=None,
               steps=None, legend_calcs=None, decimals=None, overrides=None, links=None,
               draw="line"):
    """A time series panel; latency panels pass targets with exemplar=True."""
    options = {
        "legend": {"calcs": legend_calcs or [], "displayMode": "table" if legend_calcs else "list",
                   "placement": "bottom", "showLegend": True},
        "tooltip": {"hideZeros": False, "mode": "multi", "sort": "desc"},
    }
    return _panel("timeseries", title, description, targets, options,
                  _field_defaults(unit, steps, decimals, min_, max_,
                                  _graph_custom(stack, 25 if stack else 10, draw)),
                  overrides, links=links)


def stat(title, description, target, unit, steps=None, decimals=None, graph=True,
         color_mode="value"):
    """A single-value panel showing the last value of one series."""
    options = {
        "colorMode": color_mode,
        "graphMode": "area" if graph else "none",
        "justifyMode": "auto",
        "orientation": "auto",
        "percentChangeColorMode": "standard",
        "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
        "showPercentChange": False,
        "textMode": "auto",
        "wideLayout": True,
    }
    return _panel("stat", title, description, [target], options,
                  _field_defaults(unit, steps, decimals, color={"mode": "thresholds"}))


def heatmap(title, description, target, unit="s"):
    """A heatmap of pre-bucketed histogram counts (target format "heatmap")."""
    options = {
        "calculate": False,
        "cellGap": 1,
        "color": {"exponent": 0.5, "fill": "dark-orange", "mode": "scheme", "reverse": False,
                  "scale": "exponential", "scheme": "Oranges", "steps": 64},
        "exemplars": {"color": "rgba(255,0,255,0.7)"},
        "filterValues": {"le": 1e-9},
        "legend": {"show": True},
        "rowsFrame": {"layout": "auto"},
        "showValue": "never",
        "tooltip": {"mode": "single", "showColorScale": False, "yHistogram": True},
        "yAxis": {"axisPlacement": "left", "reverse": False, "unit": unit},
    }
    defaults = {"custom": {"hideFrom": _hide_from(), "scaleDistribution": {"type": "linear"}}}
    return _panel("heatmap", title, description, [target], options, defaults)


def table(title, description, targets, columns, sort_by=None, links=None):
    """A table that merges instant queries into one row per label set.

    columns: {"Value #A": ("Display name", unit)} for each target's value;
    label columns keep their names unless renamed in `rename`.
    """
    options = {
        "cellHeight": "sm",
        "frameIndex": 0,
        "showHeader": True,
        "sortBy": [{"desc": True, "displayName": sort_by}] if sort_by else [],
    }
    overrides = []
    rename = {}
    for field, (name, unit) in columns.items():
        rename[field] = name
        overrides.append({"matcher": {"id": "byName", "options": name},
                          "properties": [{"id": "unit", "value": unit}]})
    transformations = [
        {"id": "merge", "options": {}},
        {"id": "organize", "options": {"excludeByName": {"Time": True},
                                       "indexByName": {}, "renameByName": rename}},
    ]
    custom = {"align": "auto", "cellOptions": {"type": "auto"}, "inspect": False}
    return _panel("table", title, description, targets, options,
                  _field_defaults("none", None, custom=custom, color={"mode": "thresholds"},
                                  links=links),
                  overrides, transformations)


def bargauge(title, description, target, unit, steps=None):
    """Horizontal bars, one per series, sorted by the query (topk)."""
    options = {
        "displayMode": "gradient",
        "legend": {"calcs": [], "displayMode": "list", "placement": "bottom",
                   "showLegend": False},
        "maxVizHeight": 300,
        "minVizHeight": 16,
        "minVizWidth": 8,
        "namePlacement": "auto",
        "orientation": "horizontal",
        "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
        "showUnfilled": True,
        "sizing": "auto",
        "valueMode": "color",
    }
    return _panel("bargauge", title, description, [target], options,
                  _field_defaults(unit, steps, min_=0, color={"mode": "thresholds"}))


def datasource_var():
    return {"name": "datasource", "label": "Data source", "type": "datasource",
            "query": "prometheus", "refresh": 1, "regex": "", "hide": 0,
            "includeAll": False, "multi": False, "options": []}


def query_var(name, label, query, all_value=".*", multi=True, include_all=True, sort=1):
    """A variable filled from label_values() on the selected data source."""
    v = {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": dict(DS),
        "query": query,
        "refresh": 2,
        "regex": "",
        "sort": sort,
        "hide": 0,
        "multi": multi,
        "includeAll": include_all,
        "options": [],
    }
    if include_all:
        v["allValue"] = all_value
        v["current"] = {"selected": True, "text": ["All"], "value": ["$__all"]}
    return v


class Dashboard:
    """Collects panels and lays them out; to_json() returns the dashboard dict."""

    def __init__(self, uid, title, description, variables, tags=()):
        self.uid = uid
        self.title = title
        self.description = description
        self.variables = variables
        self.tags = [TAG] + list(tags)
        self.panels = []
        self._x = 0
        self._y = 0
        self._line_h = 0

    def _newline(self):
        self._y += self._line_h
        self._x = 0
        self._line_h = 0

    def row(self, title):
        """Start a new, expanded row titled `title`."""
        self._newline()
        self.panels.append({"type": "row", "title": title, "collapsed": False, "panels": [],
                            "gridPos": {"h": 1, "w": GRID_WIDTH, "x": 0, "y": self._y}})
        self._y += 1

    def add(self, panel, w, h):
        """Place `panel` w columns wide and h units high after the previous one."""
        if not 0 < w <= GRID_WIDTH:
            raise ValueError("panel %r: width %d" % (panel["title"], w))
        if self._x + w > GRID_WIDTH:
            self._newline()
        panel["gridPos"] = {"h": h, "w": w, "x": self._x, "y": self._y}
        self._x += w
        self._line_h = max(self._line_h, h)
        self.panels.append(panel)

    def to_json(self):
        out = []
        for i, panel in enumerate(self.panels, start=1):
            p = {"id": i}
            p.update(panel)
            for n, target in enumerate(p.get("targets", [])):
                target["refId"] = chr(ord("A") + n)
            out.append(p)
        return {
            "annotations": {"list": [{
                "builtIn": 1,
                "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                "enable": True,
                "hide": True,
                "iconColor": "rgba(0, 211, 255, 1)",
                "name": "Annotations & Alerts",
                "type": "dashboard",
            }]},
            "description": self.description,
            "editable": True,
            "fiscalYearStartMonth": 0,
            "graphTooltip": 1,
            "id": None,
            "links": [{
                "asDropdown": True, "icon": "external link", "includeVars": True,
                "keepTime": True, "tags": [TAG], "targetBlank": False,
                "title": "redtap dashboards", "tooltip": "", "type": "dashboards", "url": "",
            }],
            "panels": out,
            "refresh": "30s",
            "schemaVersion": SCHEMA_VERSION,
            "tags": self.tags,
            "templating": {"list": self.variables},
            "time": {"from": "now-1h", "to": "now"},
            "timepicker": {},
            "timezone": "browser",
            "title": self.title,
            "uid": self.uid,
            "version": 1,
            "weekStart": "",
        }
