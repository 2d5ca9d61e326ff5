/**
 * Three projects run the suite: `sqlite` (everything), `sqlite-cache-off` (the cache-sensitive
 * files again with the read caches off) and `postgres` (the integration, fuzz and end-to-end
 * tests again, each test server on a fresh schema of ASC_TEST_PG_URL). DIALECTS=sqlite or
 * DIALECTS=postgres picks one. Where PostgreSQL cannot be reached, its run is skipped with the
 * reason printed — except under CI=true, where a missing PostgreSQL fails the run.
 */
import pg from 'pg';
import { defineConfig } from 'vitest/config';

const PG_URL = process.env.ASC_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

async function postgresProblem(): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('select 1');
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    await client.end().catch(() => {});
  }
}

export default defineConfig(async () => {
  const dialects = (process.env.DIALECTS ?? 'sqlite,postgres').split(',').map((d) => d.trim());
  const projects = [];
  // isolate: false: the files of a project share each worker's module cache (the app's modules
  // load once per worker, not once per file); every file still builds its own servers and data.
  const shared = { pool: 'forks' as const, isolate: false, testTimeout: 30_000, hookTimeout: 30_000 };
  if (dialects.includes('sqlite')) {
    projects.push({
      test: {
        ...shared,
        name: 'sqlite',
        include: ['test/**/*.test.ts'],
        exclude: ['test/postgres/**'],
        env: { ASC_TEST_DIALECT: 'sqlite' },
      },
    });
    // The read caches sit behind one switch (src/http/read-cache/): the differential cache test and
    // the read-heavy files run again with every cache off, so both ways stay correct.
    projects.push({
      test: {
        ...shared,
        name: 'sqlite-cache-off',
        include: [
          'test/integration/caches.test.ts',
          'test/integration/user-invitations-list.test.ts',
          'test/integration/users.test.ts',
          'test/integration/apps.test.ts',
          'test/integration/visible-apps.test.ts',
          'test/integration/sandbox-testers.test.ts',
        ],
        env: { ASC_TEST_DIALECT: 'sqlite', ASC_TEST_READ_CACHE: 'off' },
      },
    });
  }
  if (dialects.includes('postgres')) {
    const problem = await postgresProblem();
    if (problem === undefined) {
      projects.push({
        test: {
          ...shared,
          name: 'postgres',
          include: ['test/integration/**/*.test.ts', 'test/fuzz/**/*.test.ts', 'test/e2e/**/*.test.ts', 'test/postgres/**/*.test.ts'],
          // the database plays no part in these: the SQLite project runs them once
          exclude: ['test/integration/launcher.test.ts', 'test/e2e/package.test.ts'],
          env: { ASC_TEST_DIALECT: 'postgres', ASC_TEST_PG_URL: PG_URL },
        },
      });
    } else if (process.env.CI === 'true') {
      throw new Error(`PostgreSQL is required under CI=true but ${PG_URL} is not reachable: ${problem}`);
    } else {
      process.stderr.write(
        `\n[asc-access] PostgreSQL run SKIPPED: ${PG_URL} is not reachable (${problem}). Set ASC_TEST_PG_URL or DIALECTS=sqlite.\n\n`,
      );
    }
  }
  // builds dist/ once for the tests that start the CLI as a real process
  return { test: { globalSetup: ['test/global-setup.ts'], projects } };
});
