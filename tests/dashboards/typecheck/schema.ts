/**
 * The type every redtap dashboard must satisfy, built from @grafana/schema.
 *
 * API: `RedtapDashboard` is the type of one dashboards/*.json file. The
 * checker (typecheck.mjs) writes each file into a .ts module as an object
 * literal annotated with this type and runs tsc, so that unknown fields,
 * wrong field types and invalid enum values are compile errors.
 *
 * Why not `Dashboard` alone: in @grafana/schema a panel's `options` is
 * Record<string, unknown> and `targets` is Array<Record<string, unknown>>, and
 * enums such as FieldColorModeId are TypeScript string enums that no JSON
 * string literal is assignable to. So this file
 *   - maps every enum to the union of its values (Jsonify);
 *   - types each panel's options and fieldConfig.defaults.custom with the
 *     panel plugin's own Options/FieldConfig from @grafana/schema
 *     (timeseries, stat, table, heatmap, bar gauge; stat and bar gauge have
 *     no custom field config) and rows with RowPanel;
 *   - types targets as Prometheus queries: @grafana/schema has no Prometheus
 *     query type, so PromQuery below extends its DataQuery with the fields
 *     Grafana's Prometheus data source stores (expr, legendFormat, ...).
 */
import type { Dashboard, DataQuery, DataSourceRef, FieldConfigSource, Panel, RowPanel } from '@grafana/schema';
import type { Options as BarGaugeOptions } from '@grafana/schema/dist/esm/raw/composable/bargauge/panelcfg/x/BarGaugePanelCfg_types.gen';
import type {
  FieldConfig as HeatmapFieldConfig,
  Options as HeatmapOptions,
} from '@grafana/schema/dist/esm/raw/composable/heatmap/panelcfg/x/HeatmapPanelCfg_types.gen';
import type { Options as StatOptions } from '@grafana/schema/dist/esm/raw/composable/stat/panelcfg/x/StatPanelCfg_types.gen';
import type {
  FieldConfig as TableFieldConfig,
  Options as TableOptions,
} from '@grafana/schema/dist/esm/raw/composable/table/panelcfg/x/TablePanelCfg_types.gen';
import type {
  FieldConfig as TimeSeriesFieldConfig,
  Options as TimeSeriesOptions,
} from '@grafana/schema/dist/esm/raw/composable/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen';

/** T as it can be written in JSON: enums become the union of their values. */
export type Jsonify<T> = T extends string
  ? string extends T
    ? string
    : `${T}`
  : T extends number | boolean | null | undefined
    ? T
    : T extends ReadonlyArray<infer U>
      ? Array<Jsonify<U>>
      : T extends object
        ? { [K in keyof T]: Jsonify<T[K]> }
        : T;

/** A query of Grafana's Prometheus data source, as stored in dashboard JSON. */
export interface PromQuery extends DataQuery {
  datasource: DataSourceRef;
  expr: string;
  editorMode?: 'code' | 'builder';
  legendFormat?: string;
  format?: 'time_series' | 'table' | 'heatmap';
  instant?: boolean;
  range?: boolean;
  exemplar?: boolean;
  interval?: string;
  intervalFactor?: number;
}

type BasePanel = Omit<Panel, 'type' | 'options' | 'fieldConfig' | 'targets'>;

/** A panel of plugin `T` with that plugin's options and custom field config. */
type TypedPanel<T extends string, O, F> = Jsonify<BasePanel> & {
  type: T;
  options: Jsonify<O>;
  fieldConfig: Jsonify<Omit<FieldConfigSource, 'defaults'>> & {
    defaults: Jsonify<Omit<FieldConfigSource['defaults'], 'custom'>> & { custom?: Jsonify<F> };
  };
  targets: Array<Jsonify<PromQuery>>;
};

export type TimeSeriesPanel = TypedPanel<'timeseries', TimeSeriesOptions, TimeSeriesFieldConfig>;
export type StatPanel = TypedPanel<'stat', StatOptions, Record<string, never>>;
export type TablePanel = TypedPanel<'table', TableOptions, TableFieldConfig>;
export type HeatmapPanel = TypedPanel<'heatmap', HeatmapOptions, HeatmapFieldConfig>;
export type BarGaugePanel = TypedPanel<'bargauge', BarGaugeOptions, Record<string, never>>;
export type Row = Jsonify<Omit<RowPanel, 'panels'>> & { panels: Array<RedtapPanel> };

export type RedtapPanel = TimeSeriesPanel | StatPanel | TablePanel | HeatmapPanel | BarGaugePanel;

export type RedtapDashboard = Jsonify<Omit<Dashboard, 'panels'>> & {
  panels: Array<RedtapPanel | Row>;
};
