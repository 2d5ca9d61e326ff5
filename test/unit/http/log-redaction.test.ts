import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { redactingLoggerOptions, redactSecrets } from '../../../src/http/pipeline/log-redaction.js';

const TOKEN = 'Qm9vdHN0cmFwLXRva2VuLW9mLWZvcnR5LXRocmVlLWNo';
const JWT = 'eyJhbGciOiJFUzI1NiJ9.eyJhdWQiOiJhcHBzdG9yZWNvbm5lY3QtdjEifQ.c2lnbmF0dXJl';

function logger() {
  const lines: Record<string, unknown>[] = [];
  const log = pino(
    { level: 'trace', ...redactingLoggerOptions() },
    { write: (s: string) => lines.push(JSON.parse(s) as Record<string, unknown>) },
  );
  return { log, lines };
}

describe('redactSecrets', () => {
  it.each([
    [`/activate/${TOKEN}`, '/activate/[redacted]'],
    [`/activate/${TOKEN}/accept?x=1`, '/activate/[redacted]/accept?x=1'],
    [`GET:/activate/${TOKEN} not found`, 'GET:/activate/[redacted] not found'],
    [`https://asc.example/activate/${TOKEN}`, 'https://asc.example/activate/[redacted]'],
    [`/v1/apps?access_token=${TOKEN}&limit=2`, '/v1/apps?access_token=[redacted]&limit=2'],
    [`/v1/apps?token=${TOKEN}`, '/v1/apps?token=[redacted]'],
    [`/v1/users/${JWT}`, '/v1/users/[redacted]'],
    [`Bearer ${TOKEN}`, 'Bearer [redacted]'],
    ['/v1/users?limit=5&filter[username]=a@b.c', '/v1/users?limit=5&filter[username]=a@b.c'],
  ])('%s -> %s', (input, expected) => {
    expect(redactSecrets(input)).toBe(expected);
  });
});

describe('the redacting logger', () => {
  it('blanks logged headers and error texts', () => {
    const { log, lines } = logger();
    log.info({ headers: { authorization: `Bearer ${JWT}`, cookie: 'asc_csrf=x', accept: '*/*' } }, 'headers');
    log.error({ err: new Error(`Reply already sent for /activate/${TOKEN}`) }, 'failed');
    expect(lines[0]!.headers).toEqual({ authorization: '[redacted]', cookie: '[redacted]', accept: '*/*' });
    const err = lines[1]!.err as { message: string; stack: string };
    expect(err.message).toBe('Reply already sent for /activate/[redacted]');
    expect(err.stack).not.toContain(TOKEN);
  });

  it("redacts a request's messages and keeps the texts of lines outside a request", () => {
    const { log, lines } = logger();
    log.child({ reqId: 'r1' }).info(`Route GET:/activate/${TOKEN} not found`);
    log.info(`activation link: https://asc.example/activate/${TOKEN}`);
    expect(lines.map((l) => l.msg)).toEqual([
      'Route GET:/activate/[redacted] not found',
      `activation link: https://asc.example/activate/${TOKEN}`,
    ]);
  });
});
