/** Milliseconds per pipeline stage, accumulated across calls (e.g. every decoder batch). */
export type StageTimings = Record<string, number>;

/** Add `performance.now() − start` to `timings[stage]`. */
export function addTime(timings: StageTimings, stage: string, start: number): void {
  timings[stage] = (timings[stage] ?? 0) + (performance.now() - start);
}
