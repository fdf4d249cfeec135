import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
// Type-only imports of the domain libraries (which import this one): erased at run time.
import type { ClientAssertionUsed, ClientEvent, InitialAccessTokenEvent } from '#lib/domain-client';
import type { ConsentEvent, SessionEvent } from '#lib/domain-consent';
import type { GrantEvent } from '#lib/domain-grant';
import type { AccessTokenEvent } from '#lib/domain-token';
import type { UserEvent, UsernameClaimed } from '#lib/domain-user';
import { categoryOf, type RecordedEvent, type RetentionEvent } from '#lib/event-store';
import type { SigningKeyringEvent } from '#lib/signing-keys';
import {
  PUBLISHED_EVENTS,
  publishedEventsTable,
  publishedForm,
  streamCategory,
  type PublishedEventTypeName,
} from './published-events.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

// ---- compile-time: every data field of every event is declared published or withheld (npm run lint)

type AppendedEvent =
  | ClientEvent
  | ClientAssertionUsed
  | InitialAccessTokenEvent
  | UserEvent
  | UsernameClaimed
  | ConsentEvent
  | SessionEvent
  | GrantEvent
  | AccessTokenEvent
  | SigningKeyringEvent
  | RetentionEvent;
type DataOf<T extends AppendedEvent['type']> = keyof Extract<AppendedEvent, { type: T }>['data'];
type Declared<T> = T extends PublishedEventTypeName
  ? (typeof PUBLISHED_EVENTS)[T]['published'][number] | keyof (typeof PUBLISHED_EVENTS)[T]['withheld']
  : never;
/** `Type.field` of each data field neither published nor withheld: must be none. */
type Undeclared = {
  [T in AppendedEvent['type']]: `${T}.${Exclude<DataOf<T>, Declared<T>> & string}`;
}[AppendedEvent['type']];
/** `Type.field` declared for a field the event does not have: must be none. */
type Unknown = {
  [T in AppendedEvent['type']]: `${T}.${Exclude<Declared<T>, DataOf<T>> & string}`;
}[AppendedEvent['type']];
const undeclared: [Undeclared] extends [never] ? 'none' : Undeclared = 'none';
const unknown: [Unknown] extends [never] ? 'none' : Unknown = 'none';

// ---- the event types the services can append: every exported *_EVENT_TYPES array

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory())
      return name === 'testing' || name === 'node_modules' ? [] : sources(path);
    return name.endsWith('.ts') && !name.endsWith('.spec.ts') ? [path] : [];
  });
}

const libs = readdirSync(join(ROOT, 'libs')).filter((lib) => statSync(join(ROOT, 'libs', lib)).isDirectory());
const files = [
  ...sources(join(ROOT, 'apps')),
  ...libs.flatMap((lib) => sources(join(ROOT, 'libs', lib, 'src'))),
];
const text = new Map(files.map((f) => [f, readFileSync(f, 'utf8')]));

async function appendableTypes(): Promise<Map<string, string>> {
  const arrays = libs.filter((lib) =>
    [...text].some(([f, t]) => f.includes(`/libs/${lib}/src/`) && /export const \w+_EVENT_TYPES\b/.test(t)),
  );
  const byType = new Map<string, string>();
  for (const lib of arrays) {
    const exports = (await import(`#lib/${lib}`)) as Record<string, unknown>;
    for (const [name, value] of Object.entries(exports)) {
      if (!name.endsWith('_EVENT_TYPES')) continue;
      for (const type of value as string[]) byType.set(type, `${lib} ${name}`);
    }
  }
  return byType;
}

/** Event types declared anywhere in the sources: `type: 'X'; data` (interfaces, literals), `NewEvent<'X'`. */
function declaredInSources(): Map<string, string> {
  const found = new Map<string, string>();
  for (const [file, source] of text) {
    for (const m of source.matchAll(
      /type: '([A-Z][A-Za-z0-9]*)'[;,]\s*data\??:|NewEvent<'([A-Z][A-Za-z0-9]*)'/g,
    )) {
      found.set(m[1] ?? m[2]!, relative(ROOT, file));
    }
  }
  return found;
}

describe('the published form of events (docs/events.md "What a stream consumer receives")', () => {
  it('every data field of every event type is declared published or withheld (checked by the compiler)', () => {
    expect([undeclared, unknown]).toEqual(['none', 'none']);
  });

  it('every event type the services can append is declared, and every declaration is such a type', async () => {
    const appendable = await appendableTypes();
    expect(appendable.size).toBeGreaterThanOrEqual(29);
    const declared = new Set(Object.keys(PUBLISHED_EVENTS));
    expect([...appendable].filter(([type]) => !declared.has(type))).toEqual([]);
    expect([...declared].filter((type) => !appendable.has(type))).toEqual([]);
  });

  it('every event type written in the sources is in an exported *_EVENT_TYPES array', async () => {
    const appendable = await appendableTypes();
    const inSources = declaredInSources();
    expect(inSources.size).toBeGreaterThanOrEqual(29);
    expect([...inSources].filter(([type]) => !appendable.has(type))).toEqual([]);
  });

  it('no declaration publishes a field named like a hash of a secret, a password or a person', () => {
    const suspicious = /hash$|password|sealed|private|secret$|^(username|email|name|contacts)$/i;
    // jtiHash: the SHA-256 of a private_key_jwt assertion's jti (RFC 7523 §3), not of a secret.
    const published = Object.entries(PUBLISHED_EVENTS).flatMap(([type, d]) =>
      d.published.filter((f) => suspicious.test(f) && f !== 'jtiHash').map((f) => `${type}.${f}`),
    );
    expect(published).toEqual([]);
  });

  const stored = (over: Partial<RecordedEvent> = {}): RecordedEvent => ({
    globalPosition: 7,
    eventId: '0192f0c4-8a6e-7d3c-9d1e-2b4f6a8c0e11',
    streamId: 'user-3f9a',
    streamVersion: 1,
    type: 'UserCreated',
    schemaVersion: 1,
    data: {
      sub: '3f9a',
      username: 'zoe',
      email: 'zoe@mail.example',
      name: 'Zoe',
      passwordHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA',
      createdAt: '2026-12-01T10:00:00.000Z',
    },
    metadata: { correlationId: 'c-1', causationId: 'x-1', actor: 'admin:cli' },
    recordedAt: new Date('2026-12-01T10:00:00.123Z'),
    prevHash: 'a'.repeat(64),
    hash: 'b'.repeat(64),
    ...over,
  });

  it('publishes the envelope and the declared data fields only, without the hash-chain link', () => {
    expect(publishedForm(stored())).toEqual({
      globalPosition: 7,
      eventId: '0192f0c4-8a6e-7d3c-9d1e-2b4f6a8c0e11',
      streamId: 'user-3f9a',
      streamVersion: 1,
      type: 'UserCreated',
      schemaVersion: 1,
      data: { sub: '3f9a', createdAt: '2026-12-01T10:00:00.000Z' },
      metadata: { correlationId: 'c-1', causationId: 'x-1', actor: 'admin:cli' },
      recordedAt: new Date('2026-12-01T10:00:00.123Z'),
    });
  });

  it('a field added to an event is not published until it is declared', () => {
    const data = { ...(stored().data as object), phone: '+33 6 12 34 56 78', sessionIp: '203.0.113.9' };
    expect(publishedForm(stored({ data })).data).toEqual({
      sub: '3f9a',
      createdAt: '2026-12-01T10:00:00.000Z',
    });
  });

  it("metadata: the correlation id, the caller's request id, causation id and actor only", () => {
    const metadata = {
      actor: 'user:3f9a',
      ip: '203.0.113.9',
      userAgent: 'Mozilla/5.0',
    } as RecordedEvent['metadata'];
    expect(publishedForm(stored({ metadata })).metadata).toEqual({ actor: 'user:3f9a' });
    const traced = { correlationId: 'c-1', callerRequestId: 'theirs-1', actor: 'client:a' };
    expect(publishedForm(stored({ metadata: traced })).metadata).toEqual(traced);
  });

  it('an undeclared type is published with its type, ids and position, no data, and its stream category only', () => {
    const event = stored({ type: 'DeviceLinked', streamId: 'device-abc', data: { secret: 's3cr3t' } });
    expect(publishedForm(event)).toMatchObject({
      type: 'DeviceLinked',
      eventId: event.eventId,
      globalPosition: 7,
      streamId: 'device',
      streamVersion: 1,
      data: null,
    });
  });

  it('a stream id that names a secret hash or a person is replaced by its category', () => {
    const iat = stored({
      type: 'InitialAccessTokenCreated',
      streamId: 'initial-access-token-Zm9vYmFyYmF6',
      data: { createdAt: 'a', expiresAt: 'b' },
    });
    expect(publishedForm(iat)).toMatchObject({
      streamId: 'initial',
      data: { createdAt: 'a', expiresAt: 'b' },
    });
    const claim = stored({
      type: 'UsernameClaimed',
      streamId: 'username-em9l',
      data: { sub: 's', username: 'zoe' },
    });
    expect(publishedForm(claim)).toMatchObject({ streamId: 'username', data: { sub: 's' } });
    expect(JSON.stringify(publishedForm(claim))).not.toContain('em9l');
  });

  it.each(['user-3f9a', 'initial-access-token-x', 'signing-keyring', 'grant', 'client-a.b'])(
    'the category of %s is the one in the message subject',
    (streamId) => {
      expect(streamCategory(streamId).replace(/[.*>\s]/g, '_')).toBe(categoryOf(streamId));
    },
  );

  it('docs/events.md shows the table generated from the declarations (node scripts/published-events-doc.mjs)', () => {
    const page = readFileSync(join(ROOT, 'docs/events.md'), 'utf8');
    const between = /<!-- published-events:begin -->\n([\s\S]*?)\n<!-- published-events:end -->/.exec(page);
    expect(between?.[1]).toBe(publishedEventsTable());
  });
});
