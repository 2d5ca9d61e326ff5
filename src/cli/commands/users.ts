/** `asc-access users`: the team's Account Holder and the list of users. */
import { Command } from 'commander';
import type { User } from '../../resources/users/service.js';
import { withServices, type CommandContext } from '../command.js';

function userLine(u: User): string {
  return `${u.id}  ${u.username}  ${u.firstName} ${u.lastName}  ${u.roles.join(',')}`;
}

export function usersCommand(ctx: CommandContext): Command {
  const users = new Command('users').description("the team's Account Holder and its users");
  users
    .command('create-account-holder')
    .description("create the team's Account Holder (once per team)")
    .requiredOption('--email <email>', 'their email address (also their username)')
    .requiredOption('--first-name <name>', 'their first name')
    .requiredOption('--last-name <name>', 'their last name')
    .option('--json', 'print one JSON object')
    .action((o: { email: string; firstName: string; lastName: string }) =>
      withServices(ctx.config(), async (s) => {
        // the server's sweeper may not have run: an expired invitation must not keep the email
        await s.invitations.sweepExpired();
        const user = await s.users.createAccountHolder({ email: o.email, firstName: o.firstName, lastName: o.lastName });
        ctx.out(`Account Holder created\nuser id:   ${user.id}\nusername:  ${user.username}`, { ...user });
      }),
    );
  users
    .command('list')
    .description("list the team's users (ids for keys create --individual-for)")
    .option('--json', 'print one JSON object')
    .action(() =>
      withServices(ctx.config(), async (s) => {
        const list = await s.users.list();
        ctx.out(list.length > 0 ? list.map(userLine).join('\n') : 'the team has no users', { users: list });
      }),
    );
  return users;
}
