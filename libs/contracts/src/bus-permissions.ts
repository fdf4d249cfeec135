import { subjectsFor } from './subjects.js';

/**
 * Least privilege on the bus: who may publish and subscribe on which subjects. One table, from
 * which `npm start`, docker-compose.yml and the Kubernetes manifests get their nats-server users
 * (`npm run cli -- nats config`), so that the permissions cannot drift from the subjects.
 *
 * - A service subscribes to the subjects it serves (`<prefix>.<service>.>`) and answers on the
 *   reply subject of each request it received (`allow_responses`), nothing else.
 * - A caller publishes the requests it makes and subscribes only to its own reply inbox
 *   (`_INBOX.<user>.>`, the connection's `inboxPrefix`), so no other user can read its replies.
 * - Only the admin plane and the CLI publish `<prefix>.<service>.admin.*`; the internet-facing
 *   gateway publishes the public operations only.
 * - The services relay committed events to JetStream and read them back; nobody else may.
 */
export const BUS_USERS = [
  'gateway',
  'admin',
  'cli',
  'client-registry',
  'consent',
  'token',
  'introspection',
  'resource-server',
] as const;
export type BusUser = (typeof BUS_USERS)[number];

export interface BusPermissions {
  publish: string[];
  subscribe: string[];
  /** Publish on the reply subject of requests received (services). */
  allowResponses: boolean;
}

/** The reply inbox prefix of a bus user (nats.js `inboxPrefix`). */
export function inboxPrefixOf(user: string): string {
  return `_INBOX.${user}`;
}

/** The environment variable that holds a bus user's password (e.g. NATS_PASSWORD_CLIENT_REGISTRY). */
export function passwordVariableOf(user: string): string {
  return `NATS_PASSWORD_${user.toUpperCase().replace(/-/g, '_')}`;
}

/** The JetStream stream of signed checkpoints of the events' hash chain (docs/events.md "Checkpoints"). */
export function checkpointStreamOf(eventsStream: string): string {
  return `${eventsStream}_CHECKPOINTS`;
}

/** The subject each checkpoint is published on. */
export function checkpointSubjectOf(prefix: string): string {
  return `${prefix}.audit.checkpoint`;
}

/** The checkpointer (introspection's leader): publishing to its stream, and reading the last checkpoint back. */
function checkpointer(prefix: string, eventsStream: string): string[] {
  const stream = checkpointStreamOf(eventsStream);
  return [checkpointSubjectOf(prefix), `$JS.API.STREAM.*.${stream}`, `$JS.API.STREAM.MSG.GET.${stream}`];
}

const values = (group: Record<string, string>) => Object.values(group);

export function busPermissions(prefix: string, stream: string): Record<BusUser, BusPermissions> {
  const s = subjectsFor(prefix);
  const health = [s.client.health, s.consent.health, s.token.health, s.introspection.health];
  const admin = [
    ...values(s.client.admin),
    ...values(s.consent.admin),
    ...values(s.token.admin),
    ...values(s.introspection.admin),
  ];
  // What a service needs to verify an administrator's credential itself (libs/admin-auth).
  const verifyAdmin = [s.token.jwks, s.introspection.tokenStatus];
  // The JetStream relay (every service) and the projections fed from the stream.
  const jetstream = [
    `${prefix}.events.>`,
    '$JS.API.INFO',
    `$JS.API.STREAM.*.${stream}`,
    `$JS.API.CONSUMER.*.${stream}`,
    `$JS.API.CONSUMER.*.${stream}.>`,
    `$JS.API.CONSUMER.*.*.${stream}.>`,
    `$JS.ACK.${stream}.>`,
  ];
  const caller = (user: BusUser, publish: string[]): BusPermissions => ({
    publish,
    subscribe: [`${inboxPrefixOf(user)}.>`],
    allowResponses: false,
  });
  const service = (user: BusUser, serves: string, publish: string[]): BusPermissions => ({
    publish: [...publish, ...jetstream],
    subscribe: [`${prefix}.${serves}.>`, `${inboxPrefixOf(user)}.>`],
    allowResponses: true,
  });
  return {
    gateway: caller('gateway', [
      s.client.registerDynamic,
      s.client.read,
      s.client.update,
      s.client.delete,
      s.client.corsOrigins,
      s.consent.authorize,
      s.consent.login,
      s.consent.resume,
      s.consent.decide,
      s.consent.account,
      s.consent.accountRevoke,
      s.consent.accountEndSession,
      s.consent.logout,
      s.consent.logoutConfirm,
      s.token.grant,
      s.token.jwks,
      s.introspection.introspect,
      s.introspection.revoke,
      s.introspection.userinfo,
      ...health,
    ]),
    admin: caller('admin', [...admin, ...health]),
    cli: caller('cli', [...admin, ...health]),
    'client-registry': service('client-registry', 'client', verifyAdmin),
    // One owner per aggregate: consent asks the token service, owner of `grant-*`, to issue a code
    // and to revoke a user's grants; introspection hands RFC 7009 revocation to it.
    consent: service('consent', 'consent', [
      ...verifyAdmin,
      s.token.issueAuthorizationCode,
      s.token.revokeGrants,
      s.token.issueLogoutToken,
    ]),
    // OpenID Connect Core §5.5: the user claims an ID token's request named, from consent.
    token: service('token', 'token', [...verifyAdmin, s.client.authenticate, s.consent.userProfile]),
    // UserInfo (OpenID Connect Core §5.3): the user's claims from consent, owner of `user-*`.
    introspection: service('introspection', 'introspection', [
      ...verifyAdmin,
      s.client.authenticate,
      s.token.revoke,
      s.consent.userProfile,
      ...checkpointer(prefix, stream),
    ]),
    'resource-server': caller('resource-server', [s.consent.userProfile]),
  };
}

/**
 * The `authorization` block of a nats-server configuration for these users. `password(user)`
 * gives each user's password as it should appear in the file: a quoted literal, or `$VARIABLE`
 * to have nats-server read it from its environment (NATS configuration variables).
 */
export function natsAuthorizationBlock(
  prefix: string,
  stream: string,
  password: (user: BusUser) => string,
): string {
  const table = busPermissions(prefix, stream);
  const list = (items: string[]) => `[${items.map((i) => JSON.stringify(i)).join(', ')}]`;
  const users = BUS_USERS.map((user) => {
    const p = table[user];
    return [
      `    {`,
      `      user: ${JSON.stringify(user)}`,
      `      password: ${password(user)}`,
      `      permissions: {`,
      `        publish: { allow: ${list(p.publish)} }`,
      `        subscribe: { allow: ${list(p.subscribe)} }`,
      ...(p.allowResponses ? [`        allow_responses: true`] : []),
      `      }`,
      `    }`,
    ].join('\n');
  });
  return ['authorization {', '  users: [', users.join('\n'), '  ]', '}', ''].join('\n');
}
