/** People's names as the API takes them (A10). */
import type { ApiError } from '../errors/api-error.js';
import { errors } from '../errors/catalogue.js';
import { hasBidiControl, hasLoneSurrogate, hasVisibleCharacter } from './text.js';

const NAME_MAX = 100;

/**
 * Names: 1 to 100 characters after trimming, well-formed Unicode, no control or bidirectional
 * control characters, at least one character that shows (A10).
 */
export function checkName(name: string, raw: unknown, problems: ApiError[]): string | undefined {
  if (typeof raw !== 'string') {
    problems.push(errors.attributeInvalid(name, `'${name}' must be a string`));
    return undefined;
  }
  const value = raw.trim();
  if (value.length === 0) {
    problems.push(errors.attributeRequired(name));
    return undefined;
  }
  if ([...value].length > NAME_MAX) {
    problems.push(errors.attributeInvalid(name, `'${name}' must not be longer than ${NAME_MAX} characters`));
    return undefined;
  }
  if (hasLoneSurrogate(value)) {
    problems.push(errors.attributeInvalid(name, `'${name}' must be valid Unicode text; it contains an unpaired surrogate`));
    return undefined;
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(value)) {
    problems.push(errors.attributeInvalid(name, `'${name}' must not contain control characters`));
    return undefined;
  }
  if (hasBidiControl(value)) {
    problems.push(errors.attributeInvalid(name, `'${name}' must not contain bidirectional control characters`));
    return undefined;
  }
  if (!hasVisibleCharacter(value)) {
    problems.push(errors.attributeInvalid(name, `'${name}' must contain at least one visible character`));
    return undefined;
  }
  return value;
}
