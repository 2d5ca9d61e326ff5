import { describe, expect, it } from 'vitest';
import { MAX_DURATION_MS, parseDuration } from '../../../src/emulator/duration.js';

const H = 3_600_000;

describe('parseDuration', () => {
  it('reads units, combined units, ISO 8601 and plain milliseconds', () => {
    expect(parseDuration('72h')).toBe(72 * H);
    expect(parseDuration('1d2h')).toBe(26 * H);
    expect(parseDuration('30m')).toBe(30 * 60_000);
    expect(parseDuration('1500ms')).toBe(1500);
    expect(parseDuration('2.5s')).toBe(2500);
    expect(parseDuration('1h30m15s')).toBe(H + 30 * 60_000 + 15_000);
    expect(parseDuration('PT72H')).toBe(72 * H);
    expect(parseDuration('pt30m')).toBe(30 * 60_000);
    expect(parseDuration('P1DT2H')).toBe(26 * H);
    expect(parseDuration('P3D')).toBe(72 * H);
    expect(parseDuration('P1W')).toBe(168 * H);
    expect(parseDuration(86_400_000)).toBe(86_400_000);
    expect(parseDuration(0)).toBe(0);
  });

  it('refuses anything else', () => {
    for (const bad of [
      '',
      '72',
      'h',
      '72x',
      '-1h',
      '1h ago',
      'P',
      'PT',
      'P1DT',
      'PT-1H',
      '1e3ms',
      -1,
      Number.NaN,
      Infinity,
      null,
      {},
      [],
      true,
    ]) {
      expect(parseDuration(bad), String(bad)).toBeUndefined();
    }
    expect(parseDuration(MAX_DURATION_MS + 1)).toBeUndefined();
    expect(parseDuration('100000d')).toBeUndefined();
  });
});
