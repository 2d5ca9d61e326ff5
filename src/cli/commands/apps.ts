/** `asc-access apps`: add and list apps (apps are read-only through the API). */
import { parseArgs } from 'node:util';
import type { Config } from '../../config.js';
import { required, UsageError, withServices, type Out } from '../command.js';

export async function appsCommand(config: Config, args: string[], out: Out): Promise<void> {
  const [sub, ...rest] = args;
  const { values } = parseArgs({
    args: rest,
    options: {
      name: { type: 'string' },
      'bundle-id': { type: 'string' },
      sku: { type: 'string' },
      'primary-locale': { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  await withServices(config, async (s) => {
    if (sub === 'create') {
      const app = await s.apps.create({
        name: required(values, 'name'),
        bundleId: required(values, 'bundle-id'),
        sku: required(values, 'sku'),
        ...(values['primary-locale'] ? { primaryLocale: values['primary-locale'] } : {}),
      });
      out(`app id: ${app.id}`, { ...app });
    } else if (sub === 'list') {
      const apps = await s.apps.list();
      out(apps.map((a) => `${a.id}  ${a.bundleId}  ${a.sku}  ${a.name}`).join('\n'), { apps });
    } else {
      throw new UsageError(`unknown apps command '${sub ?? ''}'`);
    }
  });
}
