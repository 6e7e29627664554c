/** Writing benchmark results: JSON, a Markdown table, and a bar chart (SVG rendered to PNG by sharp). */
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import sharp from "sharp";

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  platform: string;
}

export function machineInfo(): MachineInfo {
  return {
    cpu: os.cpus()[0]?.model ?? "unknown",
    cores: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
  };
}

/** A Markdown table; numbers are printed with `digits` decimals. */
export function markdownTable(
  header: readonly string[],
  rows: readonly (readonly (string | number)[])[],
  digits = 3,
): string {
  const cell = (v: string | number) =>
    typeof v === "number" ? (Number.isFinite(v) ? v.toFixed(digits) : "n/a") : v;
  return [
    `| ${header.join(" | ")} |`,
    `| ${header.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${r.map(cell).join(" | ")} |`),
  ].join("\n");
}

export interface BarGroup {
  label: string;
  values: { name: string; value: number }[];
}

const PALETTE = ["#2563eb", "#f97316", "#16a34a", "#dc2626", "#9333ea", "#64748b"];

/** Grouped bar chart as SVG (values in 0..max, NaN: no bar); `percent` labels values ×100, else as they are. */
export function barChartSvg(
  title: string,
  groups: readonly BarGroup[],
  max = 1,
  percent = true,
): string {
  const show = (v: number) => (percent ? (v * 100).toFixed(0) : v.toFixed(v < 10 ? 1 : 0));
  const names = groups[0]?.values.map((v) => v.name) ?? [];
  const bw = 26,
    gap = 30,
    left = 50,
    top = 50,
    height = 260;
  const gw = names.length * bw + gap;
  const width = Math.max(left + groups.length * gw + 240, 60 + title.length * 9.5);
  const bars = groups.flatMap((g, gi) =>
    g.values.map((v, vi) => {
      if (Number.isNaN(v.value)) return "";
      const h = Math.max(0, Math.min(1, v.value / max)) * height;
      const x = left + gi * gw + vi * bw;
      return (
        `<rect x="${x}" y="${top + height - h}" width="${bw - 4}" height="${h}" fill="${PALETTE[vi % PALETTE.length]}"/>` +
        `<text x="${x + (bw - 4) / 2}" y="${top + height - h - 4}" font-size="10" text-anchor="middle">${show(v.value)}</text>`
      );
    }),
  );
  const labels = groups.map(
    (g, gi) =>
      `<text x="${left + gi * gw + (names.length * bw) / 2}" y="${top + height + 18}" font-size="13" text-anchor="middle">${g.label}</text>`,
  );
  const legend = names.map(
    (n, i) =>
      `<rect x="${width - 210}" y="${top + i * 20}" width="12" height="12" fill="${PALETTE[i % PALETTE.length]}"/><text x="${width - 192}" y="${top + i * 20 + 11}" font-size="12">${n}</text>`,
  );
  const axis = [0, 0.25, 0.5, 0.75, 1].map(
    (f) =>
      `<line x1="${left - 5}" x2="${left + groups.length * gw}" y1="${top + height - f * height}" y2="${top + height - f * height}" stroke="#ddd"/><text x="${left - 8}" y="${top + height - f * height + 4}" font-size="10" text-anchor="end">${show(f * max)}</text>`,
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${top + height + 40}" font-family="sans-serif"><rect width="100%" height="100%" fill="white"/><text x="${left}" y="24" font-size="16" font-weight="bold">${title}</text>${axis.join("")}${bars.join("")}${labels.join("")}${legend.join("")}</svg>`;
}

/** Writes `<name>.json`, `<name>.md` and, with a chart, `<name>.png` into `dir`. */
export async function writeResults(
  dir: string,
  name: string,
  json: unknown,
  markdown: string,
  chartSvg?: string,
): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const files = [path.join(dir, `${name}.json`), path.join(dir, `${name}.md`)];
  writeFileSync(files[0]!, JSON.stringify(json, null, 2) + "\n");
  writeFileSync(files[1]!, markdown + "\n");
  if (chartSvg) {
    const png = path.join(dir, `${name}.png`);
    await sharp(Buffer.from(chartSvg)).png().toFile(png);
    files.push(png);
  }
  return files;
}
