import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, environment, loadConfig } from '../../src/config.js';

function configError(env: NodeJS.ProcessEnv): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('the configuration was accepted');
}

describe('loadConfig', () => {
  it('refuses a wildcard HOST without ASC_PUBLIC_URL: links would point at it', () => {
    for (const host of ['0.0.0.0', '::']) {
      expect(configError({ HOST: host }).problems).toEqual([
        `HOST is ${host} (every address) and ASC_PUBLIC_URL is unset: set ASC_PUBLIC_URL to the address people and clients use`,
      ]);
      expect(loadConfig({ HOST: host, ASC_PUBLIC_URL: 'https://asc.example.com' }).publicUrl).toBe('https://asc.example.com');
    }
    expect(loadConfig({ HOST: '10.0.0.5' }).publicUrl).toBe('http://10.0.0.5:8080');
    expect(configError({ HOST: '0.0.0.0' }).message).toBe(
      'Invalid configuration: HOST is 0.0.0.0 (every address) and ASC_PUBLIC_URL is unset: ' +
        'set ASC_PUBLIC_URL to the address people and clients use',
    );
  });

  it('refuses unknown LOG_FORMAT and ASC_METRICS values with the other problems', () => {
    expect(configError({ LOG_FORMAT: 'text', ASC_METRICS: 'yes', PORT: 'x' }).problems).toEqual([
      "PORT must be a whole number between 0 and 65535, got 'x'",
      "LOG_FORMAT must be json or pretty, got 'text'",
      "ASC_METRICS must be local, on or off, got 'yes'",
    ]);
  });

  it('has defaults for everything', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      dataDir: path.resolve('./data'),
      databaseUrl: undefined,
      host: '127.0.0.1',
      port: 8080,
      publicUrl: 'http://127.0.0.1:8080',
      rateLimitPerHour: 3600,
      readCache: true,
      oneStatementCreate: true,
      pgNamedStatements: true,
      sharedKeyReads: true,
      oneStatementList: true,
      sharedListReads: true,
      responseCacheMb: 16,
      logLevel: 'info',
      logFormat: 'json',
      metrics: 'local',
      shutdownTimeoutMs: 10_000,
      authFailureLimit: 30,
      trustProxy: false,
      instanceId: `${hostname()}:8080`,
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads every variable', () => {
    expect(
      loadConfig({
        ASC_DATA_DIR: '/var/lib/asc',
        HOST: '0.0.0.0',
        PORT: ' 9000 ',
        ASC_PUBLIC_URL: 'https://asc.example.com/',
        ASC_RATE_LIMIT_PER_HOUR: '10',
        ASC_RESPONSE_CACHE_MB: '0',
        ASC_READ_CACHE: ' OFF ',
        ASC_ONE_STATEMENT_CREATE: 'off',
        ASC_PG_NAMED_STATEMENTS: 'OFF',
        ASC_SHARED_KEY_READS: 'off',
        ASC_ONE_STATEMENT_LIST: 'off',
        ASC_SHARED_LIST_READS: 'off',
        LOG_LEVEL: 'warn',
        LOG_FORMAT: ' Pretty ',
        ASC_METRICS: 'off',
        ASC_DATABASE_URL: 'postgres://u@db/asc',
        ASC_SHUTDOWN_TIMEOUT_MS: '2500',
        ASC_AUTH_FAILURE_LIMIT: '0',
        ASC_TRUST_PROXY: ' 10.0.0.1, 192.168.0.0/16,::1 ,loopback',
        ASC_INSTANCE_ID: ' eu-1 ',
      }),
    ).toMatchObject({
      dataDir: '/var/lib/asc',
      databaseUrl: 'postgres://u@db/asc',
      host: '0.0.0.0',
      port: 9000,
      publicUrl: 'https://asc.example.com',
      rateLimitPerHour: 10,
      readCache: false,
      oneStatementCreate: false,
      pgNamedStatements: false,
      sharedKeyReads: false,
      oneStatementList: false,
      sharedListReads: false,
      responseCacheMb: 0,
      logLevel: 'warn',
      logFormat: 'pretty',
      metrics: 'off',
      shutdownTimeoutMs: 2500,
      authFailureLimit: 0,
      trustProxy: ['10.0.0.1', '192.168.0.0/16', '::1', 'loopback'],
      instanceId: 'eu-1',
    });
  });

  it('refuses a trusted proxy that is not an address, a CIDR range or a name, and a hop count', () => {
    expect(loadConfig({ ASC_TRUST_PROXY: 'off' }).trustProxy).toBe(false);
    expect(loadConfig({ ASC_TRUST_PROXY: 'fd00::/8' }).trustProxy).toEqual(['fd00::/8']);
    for (const bad of ['1', 'true', '10.0.0.0/33', 'proxy.example', '10.0.0.1/8/8', '10.0.0.1,,10.0.0.2']) {
      expect(() => loadConfig({ ASC_TRUST_PROXY: bad }), bad).toThrow(/ASC_TRUST_PROXY must be off or the proxies' addresses/);
    }
    expect(() => loadConfig({ ASC_AUTH_FAILURE_LIMIT: '-1' })).toThrow(/ASC_AUTH_FAILURE_LIMIT must be a whole number/);
  });

  it('reads the emulator settings: off by default, on with 1 or true', () => {
    expect(loadConfig({})).toMatchObject({ emulator: false, emulatorToken: undefined, seedFile: undefined, emulatorJournalSize: 1000 });
    expect(loadConfig({ ASC_EMULATOR: '1' }).emulator).toBe(true);
    expect(loadConfig({ ASC_EMULATOR: ' TRUE ' }).emulator).toBe(true);
    expect(loadConfig({ ASC_EMULATOR: '0' }).emulator).toBe(false);
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'asc-config-')), 'seed.json');
    writeFileSync(file, '{}');
    expect(loadConfig({ ASC_EMULATOR_TOKEN: ' a-long-enough-token ', ASC_SEED_FILE: file, ASC_EMULATOR_JOURNAL_SIZE: '50' })).toMatchObject(
      { emulatorToken: 'a-long-enough-token', seedFile: file, emulatorJournalSize: 50 },
    );
    expect(configError({ ASC_EMULATOR: 'yes', ASC_EMULATOR_TOKEN: 'short', ASC_EMULATOR_JOURNAL_SIZE: '-1' }).problems).toEqual([
      "ASC_EMULATOR must be 1, true, 0 or false, got 'yes'",
      'ASC_EMULATOR_TOKEN must be 16 to 512 printable characters without spaces',
      "ASC_EMULATOR_JOURNAL_SIZE must be a whole number between 0 and 1000000, got '-1'",
    ]);
    expect(configError({ ASC_SEED_FILE: '/nonexistent/seed.json' }).problems).toEqual([
      'ASC_SEED_FILE names /nonexistent/seed.json, which does not exist',
    ]);
  });

  it('names the instance after the host and the port unless ASC_INSTANCE_ID says otherwise', () => {
    expect(loadConfig({ PORT: '9001' }).instanceId).toBe(`${hostname()}:9001`);
    expect(configError({ ASC_INSTANCE_ID: 'a\u0007b' }).problems).toEqual([
      'ASC_INSTANCE_ID must be at most 200 characters without control characters',
    ]);
  });

  it('refuses a read cache setting other than on or off', () => {
    expect(() => loadConfig({ ASC_READ_CACHE: 'maybe' })).toThrow(/ASC_READ_CACHE must be on or off, got 'maybe'/);
    expect(() => loadConfig({ ASC_ONE_STATEMENT_CREATE: 'no' })).toThrow(/ASC_ONE_STATEMENT_CREATE must be on or off, got 'no'/);
    expect(loadConfig({ ASC_READ_CACHE: 'on' }).readCache).toBe(true);
  });

  it('derives the public URL from host and port, bracketing IPv6', () => {
    expect(loadConfig({ HOST: '::1', PORT: '81' }).publicUrl).toBe('http://[::1]:81');
  });

  it('keeps a path prefix of the public URL without trailing slashes', () => {
    expect(loadConfig({ ASC_PUBLIC_URL: 'https://example.com/asc//' }).publicUrl).toBe('https://example.com/asc');
  });

  it('lists every problem at once', () => {
    const err = configError({ PORT: 'eighty', ASC_PUBLIC_URL: 'not a url', LOG_LEVEL: 'loud' });
    expect(err.problems).toEqual([
      "PORT must be a whole number between 0 and 65535, got 'eighty'",
      "LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got 'loud'",
      "ASC_PUBLIC_URL must be an absolute http(s) URL, got 'not a url'",
    ]);
    expect(err.message).toBe(`Invalid configuration:\n  - ${err.problems.join('\n  - ')}`);
  });

  it('refuses out-of-range numbers', () => {
    expect(configError({ PORT: '65536', ASC_RATE_LIMIT_PER_HOUR: '0' }).problems).toEqual([
      'PORT must be between 0 and 65535, got 65536',
      'ASC_RATE_LIMIT_PER_HOUR must be between 1 and 1000000000, got 0',
    ]);
    expect(configError({ PORT: '-1' }).problems).toEqual(["PORT must be a whole number between 0 and 65535, got '-1'"]);
    expect(configError({ ASC_RESPONSE_CACHE_MB: '4097' }).problems).toEqual(['ASC_RESPONSE_CACHE_MB must be between 0 and 4096, got 4097']);
    expect(configError({ ASC_SHUTDOWN_TIMEOUT_MS: '10s' }).problems).toEqual([
      "ASC_SHUTDOWN_TIMEOUT_MS must be a whole number between 0 and 3600000, got '10s'",
    ]);
  });

  it('refuses public URLs that are not plain http(s) bases', () => {
    expect(configError({ ASC_PUBLIC_URL: 'ftp://example.com' }).problems).toEqual(["ASC_PUBLIC_URL must use http or https, got 'ftp:'"]);
    expect(configError({ ASC_PUBLIC_URL: 'https://example.com/?a=1' }).problems).toEqual([
      'ASC_PUBLIC_URL must not carry a query or fragment',
    ]);
    expect(configError({ ASC_PUBLIC_URL: 'https://example.com/#top' }).problems).toEqual([
      'ASC_PUBLIC_URL must not carry a query or fragment',
    ]);
  });

  it('refuses a database URL that is not PostgreSQL', () => {
    expect(configError({ ASC_DATABASE_URL: 'mysql://db' }).problems).toEqual([
      'ASC_DATABASE_URL must start with postgres:// or postgresql://',
    ]);
  });
});

describe('environment', () => {
  it('puts the environment over the .env file of the directory, and reads nothing without one', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'asc-env-'));
    try {
      expect(environment({ A: '1' }, dir)).toEqual({ A: '1' });
      writeFileSync(path.join(dir, '.env'), '# comment\nPORT=9001\nLOG_FORMAT=pretty\nASC_TEAM_NAME="Team From File"\nHOST=::\n');
      const env = environment({ LOG_FORMAT: 'json', HOST: '' }, dir);
      expect(env).toEqual({ PORT: '9001', LOG_FORMAT: 'json', ASC_TEAM_NAME: 'Team From File', HOST: '' });
      expect(loadConfig(env)).toMatchObject({ port: 9001, logFormat: 'json', teamName: 'Team From File', host: '127.0.0.1' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('.env.example', () => {
  it('names every variable loadConfig reads', () => {
    const read = new Set(
      [...readFileSync(new URL('../../src/config.ts', import.meta.url), 'utf8').matchAll(/env\.([A-Z_]+)/g)].map((m) => m[1]),
    );
    const example = readFileSync(new URL('../../.env.example', import.meta.url), 'utf8');
    const listed = new Set([...example.matchAll(/^#? ?([A-Z][A-Z_]+)=/gm)].map((m) => m[1]));
    expect(read.size).toBeGreaterThan(15);
    expect([...read].filter((name) => !listed.has(name))).toEqual([]);
  });
});
