/**
 * Operating it: GET /metrics (Prometheus text) after real requests and real SMTP deliveries, who may
 * read it (ASC_METRICS), and the probes: /healthz (alive, never the database) and /readyz (the
 * database answers), /readyz failing with the database gone.
 *
 * The mail worker's background poll is an hour: only wake-ups after a commit and drain() deliver.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { invitationBody, startTestServer, type StartOptions, type TestServer } from '../helpers/harness.js';
import { freePort, startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';

const HOUR = 60 * 60 * 1000;

const servers: TestServer[] = [];
const sinks: SmtpSink[] = [];

afterEach(async () => {
  // a test may have closed the database under its server: closing it again may fail
  for (const s of servers.splice(0)) await s.close().catch(() => undefined);
  for (const k of sinks.splice(0)) await k.close();
});

async function server(options: StartOptions = {}): Promise<TestServer> {
  const s = await startTestServer({
    ...options,
    config: { metrics: 'local', ...options.config },
    mailWorker: { pollMs: HOUR, backoffMs: 1_000, ...options.mailWorker },
  });
  servers.push(s);
  return s;
}

/** GET /metrics (not JSON: the harness's call() is for JSON answers). */
async function scrape(s: TestServer, headers: Record<string, string> = {}): Promise<string> {
  const res = await fetch(`${s.baseUrl}/metrics`, { headers });
  const text = await res.text();
  expect(res.status, text).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return text;
}

/** The value of one sample line, e.g. `asc_mail_outbox_pending` or `name{label="v"}`; undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function invite(s: TestServer, email: string): Promise<void> {
  const res = await s.call('POST', '/v1/userInvitations', { body: invitationBody({ email }) });
  expect(res.status, res.text).toBe(201);
}

describe('GET /metrics', () => {
  it('shows a create and its mail delivery: the request, the delivery, the outbox drained', async () => {
    const sink = await startSmtpSink();
    sinks.push(sink);
    const s = await server({ config: { smtpUrl: sink.url } });
    // the sink holds its answer: the message is pending while the scrape below runs
    const held = sink.holdNext();
    await invite(s, 'metrics@example.com');
    await held.arrived;
    s.clock.advance(7_000);
    const during = await scrape(s);
    expect(sample(during, 'asc_mail_outbox_pending')).toBe(1);
    expect(sample(during, 'asc_mail_outbox_oldest_pending_seconds')).toBe(7);
    held.release();
    await s.mailWorker.drain();
    expect(sink.messages.map((m) => m.rcptTo)).toEqual([['metrics@example.com']]);
    expect((await s.call('GET', '/v1/nothing')).status).toBe(404);

    const text = await scrape(s);
    expect(sample(text, 'asc_http_requests_total{operation="POST /v1/userInvitations",status="201"}')).toBe(1);
    expect(sample(text, 'asc_http_request_duration_seconds_count{operation="POST /v1/userInvitations"}')).toBe(1);
    expect(sample(text, 'asc_http_request_duration_seconds_bucket{le="+Inf",operation="POST /v1/userInvitations"}')).toBe(1);
    expect(sample(text, 'asc_http_requests_total{operation="not_found",status="404"}')).toBe(1);
    // the scrape before this one was answered, and counted under its route
    expect(sample(text, 'asc_http_requests_total{operation="GET /metrics",status="200"}')).toBe(1);
    expect(sample(text, 'asc_mail_delivered_total{transport="sent"}')).toBe(1);
    expect(sample(text, 'asc_mail_outbox_pending')).toBe(0);
    expect(sample(text, 'asc_mail_outbox_oldest_pending_seconds')).toBe(0);
    expect(text).toMatch(/^# TYPE asc_mail_delivery_failures_total counter$/m);
    expect(sample(text, 'asc_mail_delivery_failures_total{reason="connection"}')).toBeUndefined();
    // prom-client's default process metrics
    expect(sample(text, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(text).toMatch(/^nodejs_heap_size_used_bytes \d+/m);
  });

  it('counts failed deliveries by reason, and the expiry sweeps', async () => {
    const s = await server({ config: { smtpUrl: `smtp://127.0.0.1:${await freePort()}` }, sweepIntervalMs: 20 });
    await invite(s, 'nobody-listens@example.com');
    await s.mailWorker.drain();
    let text = await scrape(s);
    expect(sample(text, 'asc_mail_delivery_failures_total{reason="connection"}')).toBe(1);
    expect(sample(text, 'asc_mail_delivered_total{transport="sent"}')).toBeUndefined();
    expect(sample(text, 'asc_mail_outbox_pending')).toBe(1);

    // the invitation expires; the sweeper (every 20 ms) turns it into a tombstone
    s.clock.advance(3 * 24 * HOUR + 1_000);
    await expect
      .poll(async () => sample((text = await scrape(s)), 'asc_invitations_expired_total'), { timeout: 10_000, interval: 20 })
      .toBe(1);
    expect(sample(text, 'asc_expiry_sweeps_total')).toBeGreaterThanOrEqual(1);
  });

  it('is served only to local clients not relayed by a proxy by default; ASC_METRICS on serves anyone, off nobody', async () => {
    const local = await server();
    await scrape(local);
    const relayed: Record<string, string>[] = [{ 'x-forwarded-for': '203.0.113.9' }, { forwarded: 'for=203.0.113.9' }];
    for (const headers of relayed) {
      const res = await local.call('GET', '/metrics', { token: null, unchecked: true, headers });
      expect(res.status).toBe(404);
      expect(res.body.errors[0]).toMatchObject({ code: 'PATH_ERROR', detail: "'/metrics' is not a valid URL" });
    }
    const open = await server({ config: { metrics: 'on' } });
    await scrape(open, { 'x-forwarded-for': '203.0.113.9' });
    const off = await server({ config: { metrics: 'off' } });
    const res = await off.call('GET', '/metrics', { token: null, unchecked: true });
    expect(res.status).toBe(404);
    expect(res.body.errors[0].code).toBe('PATH_ERROR');
  });
});

describe('the probes', () => {
  it('/healthz answers without the database; /readyz answers 503 once the database is gone', async () => {
    const s = await server();
    const ready = await s.call('GET', '/readyz', { token: null, unchecked: true });
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready' });

    await s.db.close();
    const alive = await s.call('GET', '/healthz', { token: null, unchecked: true });
    expect(alive.status).toBe(200);
    expect(alive.body).toEqual({ status: 'ok' });
    const notReady = await s.call('GET', '/readyz', { token: null, unchecked: true });
    expect(notReady.status).toBe(503);
    expect(notReady.headers.get('retry-after')).toBe('30');
    expect(notReady.body.errors).toEqual([
      expect.objectContaining({ status: '503', code: 'SERVICE_UNAVAILABLE', detail: 'The database does not answer.' }),
    ]);
    // the scrape still answers, the outbox's gauges unknown
    const text = await scrape(s);
    expect(sample(text, 'asc_http_requests_total{operation="GET /readyz",status="503"}')).toBe(1);
    expect(sample(text, 'asc_mail_outbox_pending')).toBeNaN();
    expect(sample(text, 'asc_mail_outbox_oldest_pending_seconds')).toBeNaN();
  });
});
