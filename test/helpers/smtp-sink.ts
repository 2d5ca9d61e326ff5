/**
 * A real SMTP server in the test process (smtp-server), which parses what it receives (mailparser).
 * A message is recorded before the server answers 250 to its DATA, so once a client's sendMail
 * (and so the mail worker's drain()) has resolved, the message is in `messages`.
 */
import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { freePort } from '../../src/testing/free-port.js';

export { freePort };

export interface ReceivedMail {
  /** the SMTP envelope */
  mailFrom: string;
  rcptTo: string[];
  /** the user the client authenticated as, if it did */
  user: string | undefined;
  raw: string;
  parsed: ParsedMail;
}

export interface SmtpSinkOptions {
  /** 0 (default) for any free port */
  port?: number;
  /** when given, clients must authenticate with exactly these */
  auth?: { user: string; pass: string };
  /** TLS from the first byte (smtps://), with smtp-server's built-in self-signed certificate */
  secure?: boolean;
}

export interface SmtpSink {
  port: number;
  /** smtp:// URL of the sink (with the credentials when it requires them) */
  url: string;
  messages: ReceivedMail[];
  /** credentials clients tried, as the server received them (decoded) */
  logins: { user: string; pass: string }[];
  /** resolves once `n` messages have arrived in total */
  waitFor(n: number): Promise<ReceivedMail[]>;
  /**
   * Holds the answer to the next DATA until the returned `release()`; `arrived` resolves when a
   * message is waiting for it (received, not yet acknowledged).
   */
  holdNext(): { arrived: Promise<void>; release: () => void };
  close(): Promise<void>;
}

export function addresses(field: AddressObject | AddressObject[] | undefined): string[] {
  const list = field === undefined ? [] : Array.isArray(field) ? field : [field];
  return list.flatMap((a) => a.value.map((v) => v.address ?? ''));
}

export async function startSmtpSink(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const messages: ReceivedMail[] = [];
  const logins: { user: string; pass: string }[] = [];
  const waiters: { n: number; resolve: (m: ReceivedMail[]) => void }[] = [];
  let hold: { arrived: () => void; gate: Promise<void> } | undefined;

  const notify = () => {
    for (const w of [...waiters]) {
      if (messages.length >= w.n) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(messages.slice());
      }
    }
  };

  const server = new SMTPServer({
    secure: options.secure ?? false,
    // plain SMTP on loopback: no STARTTLS (its self-signed certificate would be refused)
    disabledCommands: options.auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    authOptional: !options.auth,
    allowInsecureAuth: true,
    logger: false,
    onAuth(auth, _session, callback) {
      const user = auth.username ?? '';
      const pass = auth.password ?? '';
      logins.push({ user, pass });
      if (options.auth && user === options.auth.user && pass === options.auth.pass) return callback(null, { user });
      return callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('error', callback);
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        simpleParser(raw)
          .then(async (parsed) => {
            const held = hold;
            hold = undefined;
            if (held) {
              held.arrived();
              await held.gate;
            }
            messages.push({
              mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
              rcptTo: session.envelope.rcptTo.map((r) => r.address),
              user: typeof session.user === 'string' ? session.user : undefined,
              raw,
              parsed,
            });
            notify();
            callback();
          })
          .catch((err: unknown) => callback(err instanceof Error ? err : new Error(String(err))));
      });
    },
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const address = server.server.address();
  if (address === null || typeof address === 'string') throw new Error('smtp sink has no port');
  const port = address.port;
  const creds = options.auth ? `${encodeURIComponent(options.auth.user)}:${encodeURIComponent(options.auth.pass)}@` : '';

  return {
    port,
    // the self-signed certificate is accepted through a nodemailer option in the URL's query
    url: options.secure ? `smtps://${creds}127.0.0.1:${port}/?tls.rejectUnauthorized=false` : `smtp://${creds}127.0.0.1:${port}`,
    messages,
    logins,
    waitFor(n) {
      return new Promise((resolve) => {
        waiters.push({ n, resolve });
        notify();
      });
    },
    holdNext() {
      let arrived!: () => void;
      let release!: () => void;
      const arrivedP = new Promise<void>((r) => (arrived = r));
      const gate = new Promise<void>((r) => (release = r));
      hold = { arrived, gate };
      return { arrived: arrivedP, release };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
