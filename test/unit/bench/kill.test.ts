/**
 * The bench's kill -9 phase (bench/kill.ts) without a server: the id read from a 201, each
 * acknowledged create against the rows the database holds, the phase's verdict, and how the report
 * (bench/report.ts) gives it: a line of "Other numbers", and the creates target, which is met only
 * when the kill -9 phase lost nothing as well.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkAcknowledged, invitationId, killReport, type KillLoad, type KillReport } from '../../../bench/kill.js';
import { checkTargets, killLine, renderMarkdown, type BenchReport } from '../../../bench/report.js';

const latest = JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../../../bench/results/latest.json'), 'utf8')) as BenchReport;

const load: KillLoad = {
  seconds: 5,
  sent: 10_050,
  acknowledged: [],
  acknowledgedAfterKill: 3,
  otherStatus: {},
  errorsBeforeKill: 0,
  inFlightAtKill: 50,
  unanswered: 47,
};

const kill = (over: Partial<KillReport> = {}): KillReport => ({
  instances: 1,
  connections: 50,
  seconds: 5,
  sent: 10_050,
  acknowledged: 10_003,
  acknowledgedAfterKill: 3,
  found: 10_003,
  withMail: 10_003,
  lost: 0,
  inFlightAtKill: 50,
  unanswered: 47,
  otherStatus: {},
  errorsBeforeKill: 0,
  restarted: true,
  mailAfterRestart: { pending: 900, seconds: 0.4, left: 0 },
  ok: true,
  ...over,
});

describe('bench kill -9 phase', () => {
  it("reads the invitation's id from a 201's body, and nothing from anything else", () => {
    expect(invitationId('{"data":{"type":"userInvitations","id":"a1b2","attributes":{}}}')).toBe('a1b2');
    expect(invitationId(undefined)).toBeUndefined();
    expect(invitationId('{"data":{"type":"userInvitations","id":"a1b')).toBeUndefined();
    expect(invitationId('{"data":{"type":"users","id":"a1b2"}}')).toBeUndefined();
    expect(invitationId('{"errors":[]}')).toBeUndefined();
  });

  it('finds each acknowledged create by its email key, with the same id and a mail row', () => {
    const check = checkAcknowledged(
      [
        { email: 'kill.t.kill.0@example.net', id: 'i0' },
        { email: 'Kill.T.kill.1@example.net', id: 'i1' },
        { email: 'kill.t.kill.2@example.net' },
        { email: 'kill.t.kill.3@example.net', id: 'i3' },
        { email: 'kill.t.kill.4@example.net', id: 'i4' },
        { email: 'kill.t.kill.5@example.net', id: 'i5' },
      ],
      [
        { emailKey: 'kill.t.kill.0@example.net', id: 'i0', mail: 1 },
        { emailKey: 'kill.t.kill.1@example.net', id: 'i1', mail: 1 },
        // no id in the body (cut short by the kill): the email alone identifies it
        { emailKey: 'kill.t.kill.2@example.net', id: 'i2', mail: 1 },
        // the invitation without its mail
        { emailKey: 'kill.t.kill.3@example.net', id: 'i3', mail: 0 },
        // another invitation under the email than the one acknowledged
        { emailKey: 'kill.t.kill.4@example.net', id: 'other', mail: 1 },
        // kill.5 is not there at all
      ],
    );
    expect(check).toEqual({
      acknowledged: 6,
      found: 4,
      withMail: 3,
      lost: 3,
      lostSample: ['kill.t.kill.3@example.net', 'kill.t.kill.4@example.net', 'kill.t.kill.5@example.net'],
    });
    expect(checkAcknowledged([], [])).toEqual({ acknowledged: 0, found: 0, withMail: 0, lost: 0, lostSample: [] });
  });

  it('passes only with something acknowledged, nothing lost, and the server started again', () => {
    const check = { acknowledged: 10, found: 10, withMail: 10, lost: 0, lostSample: [] };
    const base = { instances: 1, connections: 50, load, check, restarted: true };
    expect(killReport(base)).toMatchObject({ ok: true, acknowledged: 10, inFlightAtKill: 50, unanswered: 47, acknowledgedAfterKill: 3 });
    expect(killReport({ ...base, check: { ...check, withMail: 9, lost: 1 } }).ok).toBe(false);
    expect(killReport({ ...base, check: { ...check, acknowledged: 0, found: 0, withMail: 0 } }).ok).toBe(false);
    expect(killReport({ ...base, restarted: false }).ok).toBe(false);
  });

  it('gives the phase a line of its own in the report', () => {
    expect(killLine(kill(), '')).toBe(
      '- kill -9: 50 connections creating for 5.0 s (10,050 sent, 2,000 acknowledged/s), then SIGKILL to the server with 50 requests in flight ' +
        '(47 never answered, 3 answered 201 after the signal); 10,003 acknowledged with 201, 10,003 in the database (10,003 with their mail) — ' +
        'none lost; the server started again on the killed database, and delivered the 900 messages waiting in 0.4 s',
    );
    const bad = killLine(kill({ instances: 2, lost: 2, withMail: 10_001, otherStatus: { '503': 4 }, restarted: false }), ' on 2 instances');
    expect(bad).toContain('- kill -9 on 2 instances:');
    expect(bad).toContain('SIGKILL to both instances');
    expect(bad).toContain(', 4 × 503;');
    expect(bad).toContain('**2 ACKNOWLEDGED CREATES MISSING**');
    expect(bad).toContain('**both instances did not start again on the killed database**');
    expect(killLine(kill({ instances: 3 }), ' on 3 instances')).toContain('SIGKILL to all 3 instances');
    expect(renderMarkdown({ ...latest, kill: kill() })).toContain('\n- kill -9: 50 connections creating for 5.0 s');
  });

  it('meets the creates target only when the kill -9 phase lost nothing as well', () => {
    const target = (r: BenchReport) => checkTargets(r).find((c) => c.target.includes('creates/s'));
    // the committed run, its creates made fast enough; it lost nothing after its shutdown
    const scenarios = latest.scenarios.map((s) =>
      s.id === 'create'
        ? { ...s, autocannon: { ...s.autocannon, requestsPerSecond: 5_000 }, wrk: s.wrk && { ...s.wrk, requestsPerSecond: 5_000 } }
        : s,
    );
    const fast = { ...latest, scenarios, kill: kill() };
    expect(target(fast)).toMatchObject({
      target: '≥ 2,000 durable creates/s, nothing acknowledged lost under kill -9',
      met: true,
    });
    expect(target(fast)?.measured).toContain('; kill -9 under load: 10,003 acknowledged, none lost');
    const lost = target({ ...latest, kill: kill({ lost: 1, withMail: 10_002, ok: false }) });
    expect(lost?.met).toBe(false);
    expect(lost?.measured).toContain('kill -9 under load: 10,003 acknowledged, **1 LOST**');
    const unchecked = target({ ...latest, kill: undefined });
    expect(unchecked?.met).toBe(false);
    expect(unchecked?.measured).toContain('kill -9 under load: not checked');
  });

  it("fails the instances' target when the kill of every instance lost an acknowledged create", () => {
    const one = latest.scenarios.find((s) => s.id === 'list-fresh')!;
    const report: BenchReport = {
      ...latest,
      instances: { count: 2, scenarios: [one], serverLogs: [], kill: kill({ instances: 2 }) },
    };
    const ok = checkTargets(report).find((c) => c.target.startsWith('2 instances'));
    expect(ok?.target).toContain('(also under kill -9 of every instance)');
    expect(ok?.measured).toContain('kill -9 under load: 10,003 acknowledged, none lost');
    expect(ok?.met).toBe(true);
    const lost = { ...report, instances: { ...report.instances!, kill: kill({ instances: 2, lost: 1, ok: false }) } };
    expect(checkTargets(lost).find((c) => c.target.startsWith('2 instances'))?.met).toBe(false);
    expect(renderMarkdown(report)).toContain('- kill -9 on 2 instances: 50 connections');
  });
});
