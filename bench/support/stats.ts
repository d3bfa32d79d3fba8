/** Medians, spreads and the shape every benchmark reports. */

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** (max − min) / median, in percent: how far apart the repetitions were. */
export function spread(values: readonly number[]): number {
  if (values.length < 2) return 0;
  return ((Math.max(...values) - Math.min(...values)) / Math.abs(median(values))) * 100;
}

/** `1 234.5` style, with `digits` decimals. */
export function fmt(value: number, digits = 0): string {
  return value.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

/** `median unit (min–max)` over the repetitions. */
export function summary(values: readonly number[], unit: string, digits = 0): string {
  const u = unit ? `${unit.startsWith("/") ? "" : " "}${unit}` : "";
  if (values.length < 2) return `${fmt(median(values), digits)}${u}`;
  return `${fmt(median(values), digits)}${u} (${fmt(Math.min(...values), digits)}–${fmt(Math.max(...values), digits)})`;
}

/**
 * A ratio over the repetitions as `min / **median** / max` (one value:
 * just it), with a suffix such as `×`. The verdict is taken on the median.
 */
export function ratioRange(values: readonly number[], digits = 2, suffix = "×"): string {
  if (values.length < 2) return `${fmt(median(values), digits)}${suffix}`;
  const f = (v: number) => `${fmt(v, digits)}${suffix}`;
  return `${f(Math.min(...values))} / **${f(median(values))}** / ${f(Math.max(...values))}`;
}

/** Element-wise `a[i] / b[i]` (repetitions paired in time). */
export function pairRatios(a: readonly number[], b: readonly number[]): number[] {
  return a.map((v, i) => v / (b[i] ?? Number.NaN));
}

/** One row of the results table. */
export interface Row {
  readonly benchmark: string;
  /** Our client: median (and spread) of the repetitions. */
  readonly measured: string;
  /** The anchor, measured in the same run. */
  readonly anchor: string;
  readonly ratio: string;
  readonly target: string;
  /** null: nothing to judge (informational row). */
  readonly met: boolean | null;
  /** Why, in a few words (mostly when missed). */
  readonly note: string;
}

/** What a benchmark module hands back: its rows and whatever raw data it wants recorded. */
export interface BenchOutput {
  readonly rows: Row[];
  readonly data?: unknown;
}

/** Runs `a` and `b` alternately, `reps` times each, swapping which goes first every round. */
export async function alternate<T>(
  reps: number,
  a: () => Promise<T>,
  b: () => Promise<T>,
): Promise<{ a: T[]; b: T[] }> {
  const out = { a: [] as T[], b: [] as T[] };
  for (let i = 0; i < reps; i++) {
    if (i % 2 === 0) {
      out.a.push(await a());
      out.b.push(await b());
    } else {
      out.b.push(await b());
      out.a.push(await a());
    }
  }
  return out;
}
