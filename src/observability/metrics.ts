/** A small Prometheus text-format counter set: enough for /metrics without another dependency. */
export interface Metrics {
  inc(name: string, labels?: Record<string, string>, by?: number): void;
  render(): string;
}

export function createMetrics(prefix = 'egress_responder_'): Metrics {
  const counters = new Map<string, Map<string, number>>();
  const key = (labels: Record<string, string>) =>
    Object.entries(labels)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, '_')}"`)
      .join(',');
  return {
    inc(name, labels = {}, by = 1) {
      const series = counters.get(name) ?? new Map<string, number>();
      const k = key(labels);
      series.set(k, (series.get(k) ?? 0) + by);
      counters.set(name, series);
    },
    render() {
      const lines: string[] = [];
      for (const [name, series] of [...counters.entries()].sort(([a], [b]) => a.localeCompare(b))) {
        lines.push(`# TYPE ${prefix}${name} counter`);
        for (const [labels, value] of series)
          lines.push(`${prefix}${name}${labels ? `{${labels}}` : ''} ${value}`);
      }
      return `${lines.join('\n')}\n`;
    },
  };
}
