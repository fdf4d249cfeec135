/**
 * Payloads on the wire between the gateway, the resource server and the consent service (resource
 * owners, login, consent, authorization codes). See messages.ts for the rules.
 */

export interface UserProfileRequest {
  sub: string;
}

/** What a resource server may learn about a resource owner (never the password hash). */
export interface UserProfile {
  sub: string;
  username: string;
  email?: string;
  name?: string;
  status: 'active' | 'disabled';
}
