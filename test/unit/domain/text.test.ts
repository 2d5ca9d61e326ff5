/**
 * src/domain/text.ts: text that shows what it holds (docs/behavior.md A10).
 */
import { describe, expect, it } from 'vitest';
import { hasBidiControl, hasLoneSurrogate, hasVisibleCharacter } from '../../../src/domain/text.js';

describe('hasLoneSurrogate', () => {
  it('finds a high or low surrogate without its partner, anywhere', () => {
    for (const s of ['\ud800', '\udfff', 'a\ud83d', '\ude00a', 'x\udc00\ud800y', '😀'.slice(0, 1)]) {
      expect(hasLoneSurrogate(s), JSON.stringify(s)).toBe(true);
    }
  });

  it('takes paired surrogates and plain text', () => {
    for (const s of ['', 'Jane', '😀', '👩🏽‍💻', '𝔄𝔭𝔭𝔩𝔢', '李']) expect(hasLoneSurrogate(s), s).toBe(false);
  });
});

describe('hasBidiControl', () => {
  it('finds the embedding, override and isolate controls', () => {
    for (let c = 0x202a; c <= 0x202e; c++) expect(hasBidiControl(`a${String.fromCharCode(c)}b`), c.toString(16)).toBe(true);
    for (let c = 0x2066; c <= 0x2069; c++) expect(hasBidiControl(`a${String.fromCharCode(c)}b`), c.toString(16)).toBe(true);
  });

  it('takes right-to-left letters and the characters next to the controls', () => {
    for (const s of ['דוד', 'عبد الله', '\u2029', '\u202f', '\u2065', '\u206a']) expect(hasBidiControl(s), JSON.stringify(s)).toBe(false);
  });
});

describe('hasVisibleCharacter', () => {
  it('is true for letters, digits, punctuation and symbols in any script', () => {
    for (const s of ['J', '7', '-', '😀', '李', 'ד', '\u200bx', 'e\u0301']) expect(hasVisibleCharacter(s), JSON.stringify(s)).toBe(true);
  });

  it('is false for spaces, format characters, fillers and marks alone', () => {
    const spaces = ['', ' ', '\u00a0', '\u3000'];
    const format = ['\u200b', '\u200c\u200d', '\u2060', '\ufeff', '\u00ad'];
    const invisible = [...spaces, ...format, '\u3164', '\u115f', '\uffa0', '\u2800', '\u0301', '\ue000'];
    for (const s of invisible) expect(hasVisibleCharacter(s), JSON.stringify(s)).toBe(false);
  });
});
