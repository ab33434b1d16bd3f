// Metric curves with uPlot: one chart per metric key, one series per run (runs' steps are
// merged onto one x axis; a run without a point at a step leaves a gap).
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

const COLOURS = ["#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#be185d", "#4d7c0f"];

export function metricChart(container, key, series) {
  const steps = [...new Set(series.flatMap((s) => s.steps))].sort((a, b) => a - b);
  const index = new Map(steps.map((step, i) => [step, i]));
  const data = [steps];
  for (const s of series) {
    const column = new Array(steps.length).fill(null);
    s.steps.forEach((step, i) => (column[index.get(step)] = s.values[i]));
    data.push(column);
  }
  const width = Math.max(280, container.clientWidth || 480);
  const plot = new uPlot(
    {
      title: key,
      width,
      height: 220,
      scales: { x: { time: false } },
      axes: [{ label: "step" }, {}],
      series: [
        { label: "step" },
        ...series.map((s, i) => ({
          label: s.label,
          stroke: COLOURS[i % COLOURS.length],
          width: 1.5,
          spanGaps: true,
          points: { show: steps.length < 60 },
        })),
      ],
    },
    data,
    container,
  );
  plot.root.dataset.metric = key;
  return plot;
}
