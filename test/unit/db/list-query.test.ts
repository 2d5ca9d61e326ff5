/**
 * The list definitions (src/db/list-query.ts) against the vendored spec and against themselves:
 * every `filter[...]` and `sort` value the spec allows for a list is defined, and every defined one
 * is in the spec; and a prepared list binds exactly the SQL and parameters of the same list built
 * directly with Kysely from the definition, whatever filters, sort and cursor a request has.
 */
import fc from 'fast-check';
import { DummyDriver, Kysely, sql, SqliteAdapter, SqliteIntrospector, SqliteQueryCompiler, type CompiledQuery } from 'kysely';
import { describe, expect, it } from 'vitest';
import { afterPosition, orderBy } from '../../../src/db/keyset.js';
import { PreparedList, type ListDefinition, type ListRequest } from '../../../src/db/list-query.js';
import type { Database } from '../../../src/db/schema.js';
import type { SortValue } from '../../../src/jsonapi/cursor.js';
import { APP_LIST } from '../../../src/resources/apps/repository.js';
import { SANDBOX_TESTER_LIST } from '../../../src/resources/sandbox-testers/repository.js';
import { INVITATION_LIST } from '../../../src/resources/user-invitations/repository.js';
import { USER_LIST } from '../../../src/resources/users/repository.js';
import { loadOperations } from '../../../src/spec/openapi.js';

const lists: Array<[string, ListDefinition]> = [
  ['GET /v1/users', USER_LIST],
  ['GET /v1/userInvitations', INVITATION_LIST],
  ['GET /v1/apps', APP_LIST],
  ['GET /v2/sandboxTesters', SANDBOX_TESTER_LIST],
];

function compilerOnly(log: CompiledQuery[]): Kysely<Database> {
  return new Kysely<Database>({
    dialect: {
      createAdapter: () => new SqliteAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) => new SqliteIntrospector(db),
      createQueryCompiler: () => new SqliteQueryCompiler(),
    },
    log: (event) => {
      if (event.level === 'query') log.push(event.query);
    },
  });
}

describe.each(lists)('%s', (key, def) => {
  const op = loadOperations().get(key)!;

  it('defines exactly the filters the spec has', () => {
    const inSpec = [...op.parameters.keys()].filter((name) => name.startsWith('filter[')).sort();
    expect(
      def.filters
        .map((f) => f.param)
        .filter((param) => param.startsWith('filter['))
        .sort(),
    ).toEqual(inSpec);
    // every other parameter a list defines is one the spec has too
    for (const f of def.filters) expect(op.parameters.has(f.param), f.param).toBe(true);
  });

  it('defines exactly the sort fields the spec has (none for a list the spec gives no sort)', () => {
    const sort = op.parameters.get('sort');
    if (Object.keys(def.sort).length > 0) expect(sort?.kind).toBe('array');
    else expect(sort).toBeUndefined();
    const allowed = sort?.kind === 'array' ? [...(sort.enum ?? [])].sort() : [];
    expect(
      Object.keys(def.sort)
        .flatMap((field) => [field, `-${field}`])
        .sort(),
    ).toEqual(allowed);
  });

  it('binds the arguments where the SQL takes them, for any request', async () => {
    const log: CompiledQuery[] = [];
    const db = compilerOnly(log);
    const list = new PreparedList(def);
    const fields = Object.keys(def.sort);
    const request = fc.record({
      filters: fc.tuple(
        ...def.filters.map((f) =>
          // a filter that takes none of its values is present (no values bound) or absent
          f.present
            ? fc.option(fc.constant<string[]>([]), { nil: undefined })
            : fc.option(fc.array(fc.string({ minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 3 }), { nil: undefined }),
        ),
      ),
      sort: (fields.length === 0
        ? fc.constant<string[]>([])
        : fc.uniqueArray(fc.constantFrom(...fields), { maxLength: fields.length })
      ).chain((picked) => fc.tuple(...picked.map((field) => fc.record({ column: fc.constant(def.sort[field]!), desc: fc.boolean() })))),
      after: fc.option(fc.string({ minLength: 1, maxLength: 4 }), { nil: undefined }),
      limit: fc.integer({ min: 1, max: 200 }),
    });
    await fc.assert(
      fc.asyncProperty(request, async ({ filters, sort, after, limit }) => {
        const req: ListRequest = {
          filters,
          sort,
          ...(def.scope ? { scope: '2030-01-01T00:00:00.000Z' } : {}),
          ...(after !== undefined ? { after: { keys: sort.map((_, i) => `${after}${i}`), id: after } } : {}),
        };
        log.length = 0;
        await list.page(db, req, limit);
        // the compiler-only driver returns no rows, so reading the count fails after the query is logged
        await list.count(db, req).catch(() => undefined);
        const [page, count] = log;

        // the same list, built directly from the definition with the values in place
        let q = def.from(db);
        if (req.scope !== undefined) q = def.scope!(q, req.scope as never);
        def.filters.forEach((f, i) => {
          const values = req.filters[i];
          if (values) q = f.where(q, values as never[]);
        });
        const qualified = sort.map((s) => ({ column: `m.${s.column}`, desc: s.desc }));
        let direct =
          def.rows === 'whole'
            ? q.selectAll('m')
            : q.select([sql.ref<string>('m.id').as('id'), ...sort.map((s) => sql.ref<SortValue>(`m.${s.column}`).as(s.column))]);
        if (req.after) direct = direct.where(afterPosition(qualified, 'm.id', req.after));
        const expected = direct
          .orderBy(orderBy(qualified, 'm.id'))
          .limit(limit + 1)
          .compile();
        expect(page!.sql).toBe(expected.sql);
        expect(page!.parameters).toEqual(expected.parameters);

        const counted =
          req.scope !== undefined && def.scopeCount && filters.every((f) => f === undefined)
            ? def.scopeCount(db, req.scope as never).compile(db)
            : q.select((eb) => eb.fn.countAll().as('n')).compile();
        expect(count!.sql).toBe(counted.sql);
        expect(count!.parameters).toEqual(counted.parameters);
      }),
      { numRuns: 200 },
    );
  });
});
