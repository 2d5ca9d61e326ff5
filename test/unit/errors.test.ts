import { describe, expect, it } from 'vitest';
import { errors } from '../../src/errors/catalogue.js';

describe('error pointers', () => {
  it('escape member names as one JSON Pointer segment (RFC 6901)', () => {
    expect(errors.attributeUnknown('a/b~c', 'userInvitations').source).toEqual({ pointer: '/data/attributes/a~1b~0c' });
    expect(errors.relationshipUnknown('x/y', 'users').source).toEqual({ pointer: '/data/relationships/x~1y' });
    expect(errors.attributeRequired('firstName').source).toEqual({ pointer: '/data/attributes/firstName' });
  });
});
