import { hostname } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

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
      responseCacheMb: 16,
      logLevel: 'info',
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
        LOG_LEVEL: 'warn',
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
      responseCacheMb: 0,
      logLevel: 'warn',
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

  it('names the instance after the host and the port unless ASC_INSTANCE_ID says otherwise', () => {
    expect(loadConfig({ PORT: '9001' }).instanceId).toBe(`${hostname()}:9001`);
    expect(configError({ ASC_INSTANCE_ID: 'a\u0007b' }).problems).toEqual([
      'ASC_INSTANCE_ID must be at most 200 characters without control characters',
    ]);
  });

  it('refuses a read cache setting other than on or off', () => {
    expect(() => loadConfig({ ASC_READ_CACHE: 'maybe' })).toThrow(/ASC_READ_CACHE must be on or off, got 'maybe'/);
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
