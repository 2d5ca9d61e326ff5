/** `asc-access apps`: add and list apps (apps are read-only through the API). */
import { Command } from 'commander';
import { withServices, type CommandContext } from '../command.js';

export function appsCommand(ctx: CommandContext): Command {
  const apps = new Command('apps').description('add and list apps (apps are read-only through the API)');
  apps
    .command('create')
    .description('add an app; prints its id')
    .requiredOption('--name <name>', "the app's name")
    .requiredOption('--bundle-id <id>', 'its bundle id, e.g. com.example.app')
    .requiredOption('--sku <sku>', 'its SKU')
    .option('--primary-locale <locale>', 'its primary locale (default en-US)')
    .option('--json', 'print one JSON object')
    .action((o: { name: string; bundleId: string; sku: string; primaryLocale?: string }) =>
      withServices(ctx.config(), async (s) => {
        const app = await s.apps.create({
          name: o.name,
          bundleId: o.bundleId,
          sku: o.sku,
          ...(o.primaryLocale ? { primaryLocale: o.primaryLocale } : {}),
        });
        ctx.out(`app id: ${app.id}`, { ...app });
      }),
    );
  apps
    .command('list')
    .description('list the apps')
    .option('--json', 'print one JSON object')
    .action(() =>
      withServices(ctx.config(), async (s) => {
        const list = await s.apps.list();
        ctx.out(list.map((a) => `${a.id}  ${a.bundleId}  ${a.sku}  ${a.name}`).join('\n'), { apps: list });
      }),
    );
  return apps;
}
