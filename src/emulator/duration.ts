/**
 * Durations the emulator's clock takes: a number of milliseconds, units combined in one word
 * ("72h", "1d2h", "30m", "1500ms", "2.5s"; d h m s ms), or ISO 8601 ("PT72H", "P3D", "P1DT2H30M").
 */

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
/** About a hundred years: far enough for any test, near enough that every date stays valid. */
export const MAX_DURATION_MS = 100 * 366 * 86_400_000;

const WORD = /^(?:\d+(?:\.\d+)?(?:ms|d|h|m|s))+$/;
const PART = /(\d+(?:\.\d+)?)(ms|d|h|m|s)/g;
const ISO = /^P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i;

/** The duration in whole milliseconds, or undefined when `value` is none (or negative, or over MAX_DURATION_MS). */
export function parseDuration(value: unknown): number | undefined {
  let ms: number | undefined;
  if (typeof value === 'number') ms = value;
  else if (typeof value === 'string') {
    const text = value.trim();
    if (WORD.test(text)) {
      ms = 0;
      for (const [, n, unit] of text.matchAll(PART)) ms += Number(n) * UNIT_MS[unit!]!;
    } else {
      const iso = ISO.exec(text);
      // "P" and "PT" alone name nothing
      if (iso && iso.slice(1).some((g) => g !== undefined) && !/T$/i.test(text)) {
        const [w, d, h, m, s] = iso.slice(1).map((g) => Number(g ?? 0));
        ms = w! * UNIT_MS.w! + d! * UNIT_MS.d! + h! * UNIT_MS.h! + m! * UNIT_MS.m! + s! * UNIT_MS.s!;
      }
    }
  }
  if (ms === undefined || !Number.isFinite(ms) || ms < 0 || ms > MAX_DURATION_MS) return undefined;
  return Math.round(ms);
}
