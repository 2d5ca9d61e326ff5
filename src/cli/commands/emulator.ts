/**
 * `asc-access emulator`: the emulator's controls (docs/testing-your-client.md) from a shell. Unlike
 * the other commands it opens no database: it talks HTTP to a running `asc-access serve --emulator`
 * at --url (ASC_EMULATOR_URL; default http://127.0.0.1:$PORT, PORT 8080 when unset), as team
 * --team (default `default`), with --token (ASC_EMULATOR_TOKEN) when the emulator asks for one.
 * A control's ErrorResponse is printed as its detail, and the command exits 1.
 */
import { readFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import {
  EmulatorControlError,
  EmulatorControls,
  type ClockState,
  type FaultRule,
  type JournalEntry,
  type Message,
  type ResetKeep,
} from '../../testing/controls.js';
import { CommandError, UsageError, type CommandContext } from '../command.js';

interface TargetOptions {
  url?: string;
  team?: string;
  token?: string;
}

/** The options every subcommand takes: which emulator, which team, which token. */
function target<T extends Command>(cmd: T, scoped = true): T {
  cmd.option('--url <url>', 'the emulator (default ASC_EMULATOR_URL, else http://127.0.0.1:$PORT)');
  if (scoped) cmd.option('--team <id>', 'the team the control acts on', 'default');
  cmd.option('--token <token>', 'the emulator token, when it was started with one (default ASC_EMULATOR_TOKEN)');
  return cmd;
}

function controls(ctx: CommandContext, o: TargetOptions): EmulatorControls {
  const env = ctx.env;
  const url = o.url ?? (env.ASC_EMULATOR_URL?.trim() || `http://127.0.0.1:${env.PORT?.trim() || '8080'}`);
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error();
  } catch {
    throw new UsageError(`--url must be an http(s) URL such as http://127.0.0.1:8080, got '${url}'`);
  }
  const token = o.token ?? (env.ASC_EMULATOR_TOKEN?.trim() || undefined);
  return new EmulatorControls({ baseUrl: url, team: o.team ?? 'default', ...(token !== undefined ? { token } : {}) });
}

/** Runs a control; its refusal becomes a CommandError (exit 1) carrying the ErrorResponse's detail. */
async function control<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof EmulatorControlError) throw new CommandError(err.message);
    throw err;
  }
}

/** 259200000 -> "3d", 9000000 -> "2h30m", 1500 -> "1.5s" */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  const parts: string[] = [];
  let rest = ms;
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n}${unit}`);
    rest -= n * size;
  }
  if (rest > 0) parts.push(`${rest / 1000}s`);
  return parts.join('');
}

function clockLine(c: ClockState): string {
  return c.offsetMs === 0 ? `${c.now} (the wall clock's time)` : `${c.now} (${formatDuration(c.offsetMs)} ahead of the wall clock)`;
}

function mailLine(m: Message): string {
  return [m.id, m.sentAt, m.to, JSON.stringify(m.subject), m.activationLink ?? '-'].join('  ');
}

function actionText(rule: FaultRule): string {
  const a = rule.action;
  return 'status' in a ? `status ${a.status}` : 'delayMs' in a ? `delay ${a.delayMs} ms` : 'drop';
}

function faultLine(rule: FaultRule): string {
  const times = rule.times === null ? 'every time' : `${rule.remaining ?? 0} of ${rule.times} left`;
  const share = rule.share < 1 ? `  share ${rule.share}` : '';
  return `${rule.id}  ${rule.method} ${rule.path}  ${actionText(rule)}  ${times}${share}  hits ${rule.hits}`;
}

function journalLine(e: JournalEntry): string {
  const query = new URLSearchParams(
    Object.entries(e.query).flatMap(([name, value]) => (Array.isArray(value) ? value.map((v) => [name, v]) : [[name, value]])),
  ).toString();
  return [
    String(e.id),
    e.at,
    e.method,
    `${e.path}${query ? `?${query}` : ''}`,
    e.status === 0 ? 'no answer' : String(e.status),
    e.keyId ?? '-',
    e.fault ?? '',
  ]
    .join('  ')
    .trimEnd();
}

/** A whole number in [min, max] given as an option's text. */
function wholeNumber(text: string | undefined, name: string, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max)
    throw new UsageError(`${name} must be a whole number from ${min} to ${max}`);
  return Number(text);
}

async function readDocument(file: string): Promise<unknown> {
  let text: string;
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    text = Buffer.concat(chunks).toString('utf8');
  } else {
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new CommandError(`cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new CommandError(
      `${file === '-' ? 'the standard input' : file} is not JSON: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
}

export function emulatorCommand(ctx: CommandContext): Command {
  const emulator = new Command('emulator').description(
    "drive a running emulator's controls (asc-access serve --emulator): clock, mail, invitees, state, faults, journal, teams",
  );
  const json = (cmd: Command) => cmd.option('--json', 'print one JSON object');

  // ---- clock ----
  const clock = emulator.command('clock').description("the team's emulated time: show, advance, set");
  json(target(clock.command('show', { isDefault: true }).description('print the emulated time'))).action((o: TargetOptions) =>
    control(async () => {
      const c = await controls(ctx, o).clock();
      ctx.out(clockLine(c), { ...c });
    }),
  );
  json(
    target(
      clock
        .command('advance')
        .description('move the emulated time ahead; invitations that end meanwhile end at once')
        .argument('<DURATION>', 'e.g. 72h, 1d2h, 90m, 30s, 500ms, PT72H, or milliseconds'),
    ),
  ).action((by: string, o: TargetOptions) =>
    control(async () => {
      const c = await controls(ctx, o).advanceClock(/^\d+$/.test(by) ? Number(by) : by);
      ctx.out(clockLine(c), { ...c });
    }),
  );
  json(
    target(
      clock
        .command('set')
        .description('set the emulated time to an instant (never earlier than now)')
        .argument('<INSTANT>', 'an ISO 8601 date-time, e.g. 2030-01-01T00:00:00Z'),
    ),
  ).action((at: string, o: TargetOptions) =>
    control(async () => {
      const c = await controls(ctx, o).setClock(at);
      ctx.out(clockLine(c), { ...c });
    }),
  );

  // ---- mail ----
  const mail = emulator.command('mail').description('the invitation emails the team sent: list, show, clear');
  json(
    target(
      mail
        .command('list', { isDefault: true })
        .description('the captured messages, oldest first (id, sent at, to, subject, activation link)')
        .option('--to <email>', 'only those to this address (any case)'),
    ),
  ).action((o: TargetOptions & { to?: string }) =>
    control(async () => {
      const list = await controls(ctx, o).listMail(o.to !== undefined ? { to: o.to } : {});
      ctx.out(list.length > 0 ? list.map(mailLine).join('\n') : 'no mail', { data: list });
    }),
  );
  json(
    target(mail.command('show').description('one message, with its text (--json adds the HTML)').argument('<ID>', 'see mail list')),
  ).action((id: string, o: TargetOptions) =>
    control(async () => {
      const m = await controls(ctx, o).getMail(id);
      const head = (['id', 'to', 'subject', 'sentAt', 'invitationId', 'activationLink'] as const)
        .filter((k) => m[k] !== null)
        .map((k) => `${`${k}:`.padEnd(16)}${String(m[k])}`);
      ctx.out([...head, '', m.text].join('\n'), { ...m });
    }),
  );
  json(target(mail.command('clear').description('delete every captured message'))).action((o: TargetOptions) =>
    control(async () => {
      await controls(ctx, o).clearMail();
      ctx.out('mail cleared', { cleared: 'mail', team: o.team ?? 'default' });
    }),
  );

  // ---- invitees ----
  json(
    target(
      emulator
        .command('accept')
        .description('accept a pending invitation as its invitee would on the activation page: the user is created')
        .argument('<EMAIL_OR_ID>', "the invitation's id, or its email"),
    ),
  ).action((who: string, o: TargetOptions) =>
    control(async () => {
      const done = await controls(ctx, o).accept(who);
      ctx.out(`accepted: user ${done.userId} (invitation ${done.invitationId})`, { ...done });
    }),
  );
  json(
    target(
      emulator
        .command('decline')
        .description('decline a pending invitation as its invitee would on the activation page')
        .argument('<EMAIL_OR_ID>', "the invitation's id, or its email"),
    ),
  ).action((who: string, o: TargetOptions) =>
    control(async () => {
      await controls(ctx, o).decline(who);
      ctx.out(`declined: ${who}`, { declined: who });
    }),
  );

  // ---- state ----
  json(
    target(
      emulator
        .command('reset')
        .description('empty the team (its issuer id and clock stay); also clears its mail, journal and fault rules')
        .option('--keep <what>', 'keep these, comma-separated: apiKeys, apps'),
    ),
  ).action((o: TargetOptions & { keep?: string }) =>
    control(async () => {
      const keep = (o.keep ?? '')
        .split(',')
        .map((k) => k.trim())
        .filter((k) => k !== '');
      const unknown = keep.filter((k) => k !== 'apiKeys' && k !== 'apps');
      if (unknown.length > 0) throw new UsageError(`--keep takes apiKeys and apps, not ${unknown.join(', ')}`);
      await controls(ctx, o).reset(keep as ResetKeep[]);
      const team = o.team ?? 'default';
      ctx.out(keep.length > 0 ? `team ${team} reset (kept ${keep.join(', ')})` : `team ${team} reset`, { team, kept: keep });
    }),
  );
  target(emulator.command('export').description("print the team's state document (JSON) on stdout, e.g. > state.json")).action(
    (o: TargetOptions) =>
      control(async () => {
        const document = await controls(ctx, o).exportState();
        ctx.out(JSON.stringify(document, null, 2), document as unknown as Record<string, unknown>);
      }),
  );
  json(
    target(
      emulator
        .command('import')
        .description("replace the team's whole state with a state document or seed file")
        .argument('<FILE>', 'the JSON file, or - for the standard input'),
    ),
  ).action((file: string, o: TargetOptions) =>
    control(async () => {
      const document = await readDocument(file);
      await controls(ctx, o).importState(document);
      const team = o.team ?? 'default';
      ctx.out(`imported ${file === '-' ? 'the standard input' : file} into team ${team}`, { team, imported: file });
    }),
  );

  // ---- faults ----
  const faults = emulator.command('faults').description('injected faults on the API: list, add, remove, clear');
  json(target(faults.command('list', { isDefault: true }).description('the rules, in the order they are tried'))).action(
    (o: TargetOptions) =>
      control(async () => {
        const rules = await controls(ctx, o).listFaults();
        ctx.out(rules.length > 0 ? rules.map(faultLine).join('\n') : 'no fault rules', { data: rules });
      }),
  );
  json(
    target(
      faults
        .command('add')
        .description("add a rule: matching API requests get a status (Apple's error body), a delay, or a dropped connection")
        .requiredOption('--path <glob>', "the request path, * for any characters, e.g. '/v1/users*'")
        .option('--method <method>', 'GET, POST, PATCH, DELETE, ... or * (default: any)')
        .addOption(
          new Option('--status <code>', 'answer this 4xx or 5xx status (429 carries X-Rate-Limit, 503 Retry-After)').conflicts([
            'delayMs',
            'drop',
          ]),
        )
        .addOption(new Option('--delay-ms <ms>', 'hold the request this long, then let it go on').conflicts(['drop']))
        .option('--drop', 'close the connection without an answer')
        .option('--times <n>', 'only the next N matching requests (default: all)')
        .option('--share <p>', 'only this share of matching requests, greater than 0 and at most 1 (default 1)'),
    ),
  ).action(
    (
      o: TargetOptions & {
        path: string;
        method?: string;
        status?: string;
        delayMs?: string;
        drop?: boolean;
        times?: string;
        share?: string;
      },
    ) =>
      control(async () => {
        const status = wholeNumber(o.status, '--status', 400, 599);
        const delayMs = wholeNumber(o.delayMs, '--delay-ms', 0, 60_000);
        if (status === undefined && delayMs === undefined && !o.drop)
          throw new UsageError('say what the rule does: --status, --delay-ms or --drop');
        const times = wholeNumber(o.times, '--times', 1, Number.MAX_SAFE_INTEGER);
        const share = o.share === undefined ? undefined : Number(o.share);
        if (share !== undefined && !(share > 0 && share <= 1))
          throw new UsageError('--share must be a number greater than 0 and at most 1');
        const rule = await controls(ctx, o).addFault({
          path: o.path,
          ...(o.method !== undefined ? { method: o.method } : {}),
          action: status !== undefined ? { status } : delayMs !== undefined ? { delayMs } : { drop: true },
          ...(times !== undefined ? { times } : {}),
          ...(share !== undefined ? { share } : {}),
        });
        ctx.out(`added ${faultLine(rule)}`, { ...rule });
      }),
  );
  json(target(faults.command('remove').description('remove one rule').argument('<ID>', 'see faults list'))).action(
    (id: string, o: TargetOptions) =>
      control(async () => {
        await controls(ctx, o).removeFault(id);
        ctx.out(`removed ${id}`, { removed: id });
      }),
  );
  json(target(faults.command('clear').description('remove every rule'))).action((o: TargetOptions) =>
    control(async () => {
      await controls(ctx, o).clearFaults();
      ctx.out('fault rules cleared', { cleared: 'faults', team: o.team ?? 'default' });
    }),
  );

  // ---- journal ----
  const journal = emulator.command('journal').description('the API requests the team received: list, clear');
  json(
    target(
      journal
        .command('list', { isDefault: true })
        .description('the requests, oldest first (id, time, method, path and query, status, key id, fault)')
        .option('--method <method>', 'only this method')
        .option('--path <glob>', "only paths matching this, * for any characters, e.g. '/v1/userInvitations*'")
        .option('--status <code>', 'only this status (0: no answer was sent)')
        .option('--key-id <id>', 'only requests whose token names this key')
        .option('--limit <n>', 'only the newest N that match'),
    ),
  ).action((o: TargetOptions & { method?: string; path?: string; status?: string; keyId?: string; limit?: string }) =>
    control(async () => {
      const status = wholeNumber(o.status, '--status', 0, 599);
      const limit = wholeNumber(o.limit, '--limit', 0, 1_000_000);
      const entries = await controls(ctx, o).journal({
        ...(o.method !== undefined ? { method: o.method } : {}),
        ...(o.path !== undefined ? { path: o.path } : {}),
        ...(status !== undefined ? { status } : {}),
        ...(o.keyId !== undefined ? { keyId: o.keyId } : {}),
        ...(limit !== undefined ? { limit } : {}),
      });
      ctx.out(entries.length > 0 ? entries.map(journalLine).join('\n') : 'no requests', { data: entries });
    }),
  );
  json(target(journal.command('clear').description('forget every recorded request'))).action((o: TargetOptions) =>
    control(async () => {
      await controls(ctx, o).clearJournal();
      ctx.out('journal cleared', { cleared: 'journal', team: o.team ?? 'default' });
    }),
  );

  // ---- teams ----
  const teams = emulator.command('teams').description("the emulator's isolated teams: list, create, delete");
  json(target(teams.command('list', { isDefault: true }).description('every team: id, issuer id, created at'), false)).action(
    (o: TargetOptions) =>
      control(async () => {
        const list = await controls(ctx, o).listTeams();
        ctx.out(list.map((t) => `${t.id}  ${t.issuerId}  ${t.createdAt}`).join('\n'), { data: list });
      }),
  );
  json(
    target(
      teams
        .command('create')
        .description('create a team with its own issuer id; prints its id, and the key to call the API with')
        .option('--seed <file>', 'a state document or seed file to start it from'),
      false,
    ),
  ).action((o: TargetOptions & { seed?: string }) =>
    control(async () => {
      const seed = o.seed === undefined ? undefined : await readDocument(o.seed);
      const team = await controls(ctx, o).createTeam(seed);
      const lines = [`team created`, `id:         ${team.id}`, `issuer id:  ${team.issuerId}`, `key id:     ${team.keyId ?? '-'}`];
      if (team.privateKey !== null) lines.push('private key:', team.privateKey.trimEnd());
      ctx.out(lines.join('\n'), { ...team });
    }),
  );
  json(target(teams.command('delete').description('delete a team and everything in it').argument('<ID>', 'see teams list'), false)).action(
    (id: string, o: TargetOptions) =>
      control(async () => {
        await controls(ctx, o).deleteTeam(id);
        ctx.out(`team ${id} deleted`, { deleted: id });
      }),
  );
  return emulator;
}
