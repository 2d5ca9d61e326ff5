/**
 * Text that shows what it holds (docs/behavior.md A10): strings a person reads in a list, on the
 * activation page or in an email must be stored exactly as answered and must not disguise
 * themselves or other text.
 */

/**
 * A UTF-16 code unit of a surrogate pair without its partner (e.g. "\ud800" from a JSON escape):
 * no Unicode text, so no store keeps it as given (SQLite writes invalid UTF-8, PostgreSQL refuses
 * or replaces it).
 */
export function hasLoneSurrogate(value: string): boolean {
  // with the u flag, a paired surrogate is one code point and only a lone one is in Cs
  return /\p{Cs}/u.test(value);
}

/**
 * The bidirectional embedding, override and isolate controls (U+202A-U+202E, U+2066-U+2069): they
 * reorder the text that follows them, e.g. a right-to-left override makes "moc.elppa@" read as
 * "@apple.com".
 */
export function hasBidiControl(value: string): boolean {
  return /[\u202a-\u202e\u2066-\u2069]/.test(value);
}

/**
 * Whether the text has at least one character that shows: a letter, digit, punctuation mark or
 * symbol that is not default-ignorable (zero-width spaces and joiners, the Hangul fillers) and not
 * the blank Braille pattern. Marks, spaces and format characters alone show nothing.
 */
export function hasVisibleCharacter(value: string): boolean {
  return /(?![\p{Default_Ignorable_Code_Point}\u2800])[\p{L}\p{N}\p{P}\p{S}]/u.test(value);
}
