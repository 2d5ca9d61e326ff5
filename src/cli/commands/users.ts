/** `asc-access users`: the team's Account Holder and the list of users. */
import { parseArgs } from 'node:util';
import type { Config } from '../../config.js';
import type { User } from '../../resources/users/service.js';
import { required, UsageError, withServices, type Out } from '../command.js';

function userLine(u: User): string {
  return `${u.id}  ${u.username}  ${u.firstName} ${u.lastName}  ${u.roles.join(',')}`;
}

export async function usersCommand(config: Config, args: string[], out: Out): Promise<void> {
  const [sub, ...rest] = args;
  const { values } = parseArgs({
    args: rest,
    options: { email: { type: 'string' }, 'first-name': { type: 'string' }, 'last-name': { type: 'string' }, json: { type: 'boolean' } },
  });
  await withServices(config, async (s) => {
    if (sub === 'create-account-holder') {
      const input = {
        email: required(values, 'email'),
        firstName: required(values, 'first-name'),
        lastName: required(values, 'last-name'),
      };
      // the server's sweeper may not have run: an expired invitation must not keep the email
      await s.invitations.sweepExpired();
      const user = await s.users.createAccountHolder(input);
      out(`Account Holder created\nuser id:   ${user.id}\nusername:  ${user.username}`, { ...user });
    } else if (sub === 'list') {
      const users = await s.users.list();
      out(users.length > 0 ? users.map(userLine).join('\n') : 'the team has no users', { users });
    } else {
      throw new UsageError(`unknown users command '${sub ?? ''}'`);
    }
  });
}
