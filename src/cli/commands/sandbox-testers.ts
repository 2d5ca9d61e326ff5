/**
 * `asc-access sandbox-testers`: create, list and delete sandbox testers. Apple creates and deletes
 * them in its web UI, not the API (docs/behavior.md B10.1); its form asks for a password, which this
 * service never uses, so none is asked for here (A23).
 */
import { Command } from 'commander';
import type { SandboxTester } from '../../resources/sandbox-testers/service.js';
import { withServices, type CommandContext } from '../command.js';

function testerLine(t: SandboxTester): string {
  return `${t.id}  ${t.email}  ${t.firstName} ${t.lastName}  ${t.territory}`;
}

export function sandboxTestersCommand(ctx: CommandContext): Command {
  const testers = new Command('sandbox-testers').description('create, list and delete sandbox testers (Sandbox Apple Accounts)');
  testers
    .command('create')
    .description('create a sandbox tester; prints its id (no password: this service never signs anyone in)')
    .requiredOption('--first-name <name>', 'their first name')
    .requiredOption('--last-name <name>', 'their last name')
    .requiredOption('--email <email>', "the account's email: used by no user, invitation or other tester of the team")
    .requiredOption('--territory <code>', 'their App Store country or region, a three-letter territory code such as USA')
    .option('--json', 'print one JSON object')
    .action((o: { firstName: string; lastName: string; email: string; territory: string }) =>
      withServices(ctx.config(), async (s) => {
        // the server's sweeper may not have run: an expired invitation must not keep the email
        await s.invitations.sweepExpired();
        const tester = await s.sandboxTesters.create(o);
        ctx.out(`sandbox tester created\nid:         ${tester.id}\nemail:      ${tester.email}\nterritory:  ${tester.territory}`, {
          ...tester,
        });
      }),
    );
  testers
    .command('list')
    .description('list the sandbox testers')
    .option('--json', 'print one JSON object')
    .action(() =>
      withServices(ctx.config(), async (s) => {
        const list = await s.sandboxTesters.list();
        ctx.out(list.length > 0 ? list.map(testerLine).join('\n') : 'the team has no sandbox testers', { sandboxTesters: list });
      }),
    );
  testers
    .command('delete')
    .description('delete a sandbox tester; their email is free again')
    .argument('<ID_OR_EMAIL>', "the tester's id or email (see sandbox-testers list)")
    .option('--json', 'print one JSON object')
    .action((idOrEmail: string) =>
      withServices(ctx.config(), async (s) => {
        const tester = await s.sandboxTesters.remove(idOrEmail);
        ctx.out(`sandbox tester deleted: ${tester.id}  ${tester.email}`, { deleted: tester });
      }),
    );
  return testers;
}
