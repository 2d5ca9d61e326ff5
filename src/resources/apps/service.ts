/** Apps: created by the operator (CLI), read through the API. */
import { randomInt } from 'node:crypto';
import type { Clock } from '../../clock.js';
import type { Page } from '../../db/keyset.js';
import type { ListRequest } from '../../db/list-query.js';
import { toApp, type App } from '../../domain/app.js';
import { mappedListPage } from '../../jsonapi/list.js';
import { errors } from '../../errors/catalogue.js';

export { toApp, type App } from '../../domain/app.js';
import type { AppRow, AppsRepository } from './repository.js';

export class AppInputError extends Error {
  override name = 'AppInputError';
}

const BUNDLE_ID = /^[A-Za-z0-9.-]{1,155}$/;
const LOCALE = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;

export class AppsService {
  constructor(
    private readonly repo: AppsRepository,
    private readonly clock: Clock,
  ) {}

  async create(input: { name: string; bundleId: string; sku: string; primaryLocale?: string }): Promise<App> {
    const name = input.name.trim();
    const sku = input.sku.trim();
    const primaryLocale = input.primaryLocale?.trim() || 'en-US';
    if (name === '' || name.length > 30) throw new AppInputError('An app name must have 1 to 30 characters');
    if (!BUNDLE_ID.test(input.bundleId)) throw new AppInputError(`'${input.bundleId}' is not a valid bundle id`);
    if (sku === '' || sku.length > 100) throw new AppInputError('A SKU must have 1 to 100 characters');
    if (!LOCALE.test(primaryLocale)) throw new AppInputError(`'${primaryLocale}' is not a valid locale`);
    for (let attempt = 0; attempt < 5; attempt++) {
      // Apple's app ids are numeric strings; ten digits keep text order equal to numeric order.
      const row: AppRow = {
        id: String(randomInt(1_000_000_000, 9_999_999_999)),
        name,
        bundle_id: input.bundleId,
        sku,
        primary_locale: primaryLocale,
        created_at: this.clock.now().toISOString(),
      };
      const outcome = await this.repo.insert(row);
      if (outcome === 'ok') return toApp(row);
      if (outcome === 'bundleId') throw new AppInputError(`An app with bundle id '${input.bundleId}' exists already`);
      if (outcome === 'sku') throw new AppInputError(`An app with SKU '${sku}' exists already`);
    }
    throw new Error('could not allocate a unique app id');
  }

  async get(id: string): Promise<App> {
    const row = await this.repo.findById(id);
    if (!row) throw errors.notFound('apps', id);
    return toApp(row);
  }

  async findByIds(ids: readonly string[]): Promise<App[]> {
    return (await this.repo.findByIds(ids)).map(toApp);
  }

  async list(): Promise<App[]> {
    return (await this.repo.listAll()).map(toApp);
  }

  page(req: ListRequest, limit: number): Promise<Page<App>> {
    return mappedListPage(this.repo, req, limit, undefined, toApp);
  }
}
