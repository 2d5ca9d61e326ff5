/** The invitation email's content: both alternatives, plain words, escaping, one-line subject. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { USER_ROLES } from '../../../src/domain/roles.js';
import {
  formatExpiry,
  invitationSubject,
  mailTemplateData,
  renderInvitationMail,
  renderOutboxMail,
  rolesInWords,
  type InvitationMailInput,
} from '../../../src/mail/templates.js';

const LINK = 'https://asc.example.test/activate/AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-abcde';

function input(over: Partial<InvitationMailInput> = {}): InvitationMailInput {
  return {
    teamName: 'Acme Studios',
    invitedBy: 'Sam Ops',
    firstName: 'Jane',
    lastName: 'Appleseed',
    email: 'jane@example.com',
    roles: ['DEVELOPER', 'APP_MANAGER', 'ACCESS_TO_REPORTS'],
    apps: ['Weather', 'Notes'],
    expiresAt: new Date('2026-11-29T10:22:31.123Z'),
    link: LINK,
    ...over,
  };
}

describe('rolesInWords and formatExpiry', () => {
  it('names roles as App Store Connect shows them', () => {
    expect(rolesInWords(['ADMIN', 'APP_MANAGER', 'DEVELOPER', 'CUSTOMER_SUPPORT', 'GENERATE_INDIVIDUAL_KEYS'])).toBe(
      'Admin, App Manager, Developer, Customer Support, Generate Individual API Keys',
    );
  });

  it('writes the expiry in UTC to the minute', () => {
    expect(formatExpiry(new Date('2026-11-29T10:22:31.123Z'))).toBe('2026-11-29 10:22 UTC');
  });
});

describe('renderInvitationMail', () => {
  it('puts the team, the invitee, the roles in words, the apps, the expiry and the link in both alternatives', () => {
    const m = renderInvitationMail(input());
    expect(m.subject).toBe("You're invited to join Acme Studios on App Store Connect");
    expect(m.text).toBe(
      [
        'Dear Jane Appleseed,',
        '',
        'Sam Ops invited you to join the team "Acme Studios" on App Store Connect.',
        '',
        'Email: jane@example.com',
        'Roles: Developer, App Manager, Access to Reports',
        'Apps: Notes, Weather',
        '',
        'To accept, open this link before 2026-11-29 10:22 UTC:',
        LINK,
        '',
        'If you were not expecting this invitation, you can ignore this email or decline it at the link above.',
      ].join('\n'),
    );
    for (const part of [
      'Acme Studios',
      'Dear Jane Appleseed,',
      'Developer, App Manager, Access to Reports',
      'Notes, Weather',
      '2026-11-29 10:22 UTC',
      'Sam Ops invited you to join Acme Studios',
    ]) {
      expect(m.html).toContain(part);
    }
    expect(m.html).toContain(`<a href="${LINK}"`);
    // the fallback under the button is a link too, showing the address itself
    expect(m.html).toContain(`<a href="${LINK}" style="color:#0071e3;word-break:break-all">${LINK}</a>`);
    expect(m.html).toMatch(/^<!doctype html>/);
  });

  it('says "All apps" when the invitee sees every app, and names only the team when no person invited', () => {
    const m = renderInvitationMail(input({ apps: null, invitedBy: null }));
    expect(m.text).toContain('Apps: All apps');
    expect(m.html).toContain('<td>All apps</td>');
    expect(m.text).toContain('You\'re invited to join the team "Acme Studios" on App Store Connect.');
    expect(m.html).toContain('You&#39;re invited to join Acme Studios</h1>');
    expect(m.html).not.toContain('invited you');
  });

  it('escapes every piece of user input in the HTML', () => {
    const m = renderInvitationMail(
      input({
        teamName: 'R&D "Labs"',
        invitedBy: '<b>boss</b>',
        firstName: '<script>alert(1)</script>',
        lastName: "O'Neil & Co",
        email: 'a&b@example.com',
        apps: ['<img src=x onerror=alert(1)>'],
      }),
    );
    expect(m.html).not.toMatch(/<script|<img|<b>boss/);
    expect(m.html).toContain('R&amp;D &quot;Labs&quot;');
    expect(m.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt; O&#39;Neil &amp; Co');
    expect(m.html).toContain('&lt;b&gt;boss&lt;/b&gt;');
    expect(m.html).toContain('a&amp;b@example.com');
    expect(m.html).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(m.html).toContain('<title>You&#39;re invited to join R&amp;D &quot;Labs&quot; on App Store Connect</title>');
    // the text alternative is plain text: as given
    expect(m.text).toContain("Dear <script>alert(1)</script> O'Neil & Co,");
  });

  it('keeps the subject on one line whatever the team name holds', () => {
    for (const teamName of ['A\r\nBcc: x@example.com', 'A\nB', 'A\u2028B', 'A\rB']) {
      const { subject } = renderInvitationMail(input({ teamName }));
      expect(subject).not.toMatch(/[\r\n\u2028\u2029]/);
    }
  });
});

describe('the outbox keeps the data a message is rendered from (migration 008)', () => {
  const text = fc.string({ unit: 'grapheme', maxLength: 40 });
  const mailInput = fc.record({
    teamName: text,
    invitedBy: fc.option(text, { nil: null }),
    firstName: text,
    lastName: text,
    email: fc.emailAddress(),
    roles: fc.subarray([...USER_ROLES], { minLength: 1 }),
    apps: fc.option(fc.array(text, { maxLength: 6 }), { nil: null }),
    expiresAt: fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2100-01-01T00:00:00Z'), noInvalidDate: true }),
    link: fc.webUrl(),
  });

  it('renders from the kept data exactly the message rendered from the input, whatever it holds', () => {
    fc.assert(
      fc.property(mailInput, (m) => {
        const row = { subject: invitationSubject(m.teamName), text_body: '', html_body: '', template_data: mailTemplateData(m) };
        expect(renderOutboxMail(row)).toEqual(renderInvitationMail(m));
        expect(row.subject).toBe(renderInvitationMail(m).subject);
      }),
    );
  });

  it('keeps far less than the rendering', () => {
    const m = input();
    const rendered = renderInvitationMail(m);
    expect(mailTemplateData(m).length * 3).toBeLessThan(rendered.text.length + rendered.html.length);
  });
});
