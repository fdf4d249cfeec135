/** What the consent page says for each scope (OAuth 2.1 §7.11: text from the server, never the request). */
const DESCRIPTIONS: Record<string, string> = {
  read: 'Read your data',
  write: 'Create and change your data',
  openid: 'Know who you are',
  profile: 'See your name and username',
  email: 'See your email address',
  offline_access: 'Keep access while you are away',
  admin: 'Administer this authorization server',
};

export function describeScope(scope: string): string {
  return DESCRIPTIONS[scope] ?? `Use the "${scope}" permission`;
}
