/** The herd plot: connection attempts per second at the broker over time, one line per jitter mode. */

import type { HerdData, HerdRun } from "../herd.js";

const COLORS: Record<string, string> = {
  none: "#d62728",
  full: "#1f77b4",
  equal: "#2ca02c",
  decorrelated: "#9467bd",
};

/** 1, 2, 5 × 10^k steps giving about `count` ticks up to `max`. */
function niceStep(max: number, count: number): number {
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  return ([1, 2, 5, 10].find((m) => m * power >= raw) ?? 10) * power;
}

const esc = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;");

export function herdSvg(data: HerdData, binMs: number): string {
  // One run per mode: the one with the median peak.
  const modes = [...new Set(data.runs.map((r) => r.jitter))];
  const runs: HerdRun[] = modes.map((mode) => {
    const of = data.runs.filter((r) => r.jitter === mode).sort((a, b) => a.peak - b.peak);
    return of[Math.floor((of.length - 1) / 2)] as HerdRun;
  });
  const width = 760;
  const height = 380;
  const m = { left: 70, right: 20, top: 48, bottom: 50 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const bins = Math.max(...runs.map((r) => r.rate.length));
  const seconds = (bins * binMs) / 1000;
  const yMax = Math.max(1, ...runs.map((r) => r.peak)) * 1.08;
  const x = (s: number) => m.left + (s / seconds) * plotW;
  const y = (v: number) => m.top + plotH - (v / yMax) * plotH;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<title>Connection attempts per second at the broker during a reconnect herd, per jitter mode</title>`,
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14">${esc(
      `Reconnect herd: ${data.clients} clients, broker down ${data.downMs / 1000} s at t = 0 (base ${data.baseSeconds} s, ceiling ${data.ceilSeconds} s)`,
    )}</text>`,
    `<text x="${width / 2}" y="34" text-anchor="middle" fill="#666">one run per mode (the median peak); "all back": from the broker's return to the last client connected</text>`,
  );
  const yStep = niceStep(yMax, 6);
  for (let v = 0; v <= yMax; v += yStep) {
    parts.push(
      `<line x1="${m.left}" x2="${m.left + plotW}" y1="${y(v)}" y2="${y(v)}" stroke="#eee"/>`,
      `<text x="${m.left - 6}" y="${y(v) + 4}" text-anchor="end">${v.toLocaleString("en-US")}</text>`,
    );
  }
  const xStep = niceStep(seconds, 10);
  for (let s = 0; s <= seconds; s += xStep) {
    parts.push(
      `<line x1="${x(s)}" x2="${x(s)}" y1="${m.top + plotH}" y2="${m.top + plotH + 5}" stroke="#333"/>`,
      `<text x="${x(s)}" y="${m.top + plotH + 18}" text-anchor="middle">${Number(s.toFixed(1))}</text>`,
    );
  }
  const upAt = (runs[0]?.downMs ?? data.downMs) / 1000;
  parts.push(
    `<line x1="${x(upAt)}" x2="${x(upAt)}" y1="${m.top}" y2="${m.top + plotH}" stroke="#999" stroke-dasharray="4 3"/>`,
    `<text x="${x(upAt) + 4}" y="${m.top + 12}" fill="#666">broker back</text>`,
    `<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${m.top + plotH}" stroke="#333"/>`,
    `<line x1="${m.left}" x2="${m.left + plotW}" y1="${m.top + plotH}" y2="${m.top + plotH}" stroke="#333"/>`,
    `<text x="${m.left + plotW / 2}" y="${height - 12}" text-anchor="middle">seconds since the broker went down (${binMs} ms bins)</text>`,
    `<text transform="translate(16 ${m.top + plotH / 2}) rotate(-90)" text-anchor="middle">connection attempts per second</text>`,
  );
  runs.forEach((run, i) => {
    // A step line: each bin is flat over its 100 ms.
    const points: string[] = [];
    run.rate.forEach((v, bin) => {
      const s0 = (bin * binMs) / 1000;
      const s1 = ((bin + 1) * binMs) / 1000;
      points.push(
        `${x(s0).toFixed(1)},${y(v).toFixed(1)}`,
        `${x(s1).toFixed(1)},${y(v).toFixed(1)}`,
      );
    });
    const color = COLORS[run.jitter] ?? "#000";
    parts.push(
      `<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${points.join(" ")}"/>`,
      `<rect x="${m.left + 12}" y="${m.top + 10 + i * 18}" width="12" height="12" fill="${color}"/>`,
      `<text x="${m.left + 30}" y="${m.top + 20 + i * 18}">${esc(
        `${run.jitter}: peak ${run.peak.toLocaleString("en-US")}/s, all back in ${(run.backWithinMs / 1000).toFixed(1)} s`,
      )}</text>`,
    );
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}
