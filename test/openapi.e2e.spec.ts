import { compileErrors, validate } from '@readme/openapi-parser';
import { Ajv } from 'ajv';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import createClient from 'openapi-fetch';
import openapiTS, { astToString } from 'openapi-typescript';
import ts from 'typescript';
import { type RunningSystem, startSystem } from './support/system.js';

/**
 * The OpenAPI document the admin plane serves (OpenAPI 3.0): valid, every operation with an id
 * an SDK can name, its success answer's schema and its error answer (RFC 6749 §5.2); a typed
 * client generated from it (openapi-typescript, openapi-fetch) type-checks and talks to the
 * running system; and Swagger UI is served beside it.
 */
interface Operation {
  operationId?: string;
  parameters?: { name: string; in: string; schema?: Record<string, unknown> }[];
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
}
interface Document {
  openapi: string;
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, unknown> };
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];
/** Success answers without a body: 204, and RFC 7009 §2.2's empty 200 of /revoke. */
const NO_BODY = new Set(['revokeToken']);
/** Operations that cannot fail with an error object: liveness, and the static RFC 8414 document. */
const NO_ERROR = new Set(['getLiveness', 'getServerMetadata']);

function operations(doc: Document): [string, string, Operation][] {
  return Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, op]) => [path, method, op as Operation] as [string, string, Operation]),
  );
}

const schemaOf = (op: Operation, status: string) =>
  Object.values(op.responses[status]?.content ?? {})[0]?.schema as Record<string, unknown> | undefined;

describe('OpenAPI document and generated client (OpenAPI 3.0, RFC 6749 §5.2)', () => {
  let system: RunningSystem;
  let doc: Document;
  let ajv: Ajv;

  beforeAll(async () => {
    // The generated client's type-check below is synchronous and blocks the event loop for seconds
    // on a loaded machine: longer than the admin listener's default 5 s keep-alive, so the next
    // request could reuse a socket the server has just closed ("other side closed"). Idle sockets
    // are kept longer here; keep-alive itself is not what this suite tests.
    system = await startSystem({ env: { HTTP_KEEP_ALIVE_TIMEOUT_MS: '120000' } });
    const res = await fetch(`${system.adminUrl}/openapi.json`);
    expect(res.status).toBe(200);
    doc = (await res.json()) as Document;
    ajv = new Ajv({ strict: false, allErrors: true });
    ajv.addFormat('date-time', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
    ajv.addSchema({ $id: 'openapi', components: doc.components });
  }, 90000);

  afterAll(async () => {
    await system?.stop();
  }, 30000);

  /** Whether `body` matches the named component schema; the errors as the message when not. */
  const matches = (name: string, body: unknown) => {
    const validate = ajv.getSchema(`openapi#/components/schemas/${name}`)!;
    return validate(body) ? true : ajv.errorsText(validate.errors);
  };

  it('validates as OpenAPI 3 (@readme/openapi-parser)', async () => {
    expect(doc.openapi).toMatch(/^3\./);
    const result = await validate(structuredClone(doc) as never);
    expect(result.valid ? '' : compileErrors(result)).toBe('');
    // The validator refuses a broken document: a $ref to no schema.
    const broken = structuredClone(doc);
    broken.components.schemas.ClientPage = { $ref: '#/components/schemas/NoSuchSchema' };
    expect((await validate(broken as never)).valid).toBe(false);
  });

  it('has named schemas: client metadata, user, IAT, history page, token, introspection, JWKS, metadata, error', () => {
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining([
        'ClientMetadata',
        'Client',
        'User',
        'InitialAccessToken',
        'TokenHistoryPage',
        'TokenResponse',
        'IntrospectionResponse',
        'JsonWebKeySet',
        'AuthorizationServerMetadata',
        'OAuthError',
      ]),
    );
  });

  it('every operation: a unique readable id, a success schema, an error schema, typed parameters', () => {
    const ops = operations(doc);
    expect(ops.length).toBeGreaterThanOrEqual(36);
    const ids = ops.map(([, , op]) => op.operationId);
    expect(ids.filter((id) => id === undefined || /Controller_|_/.test(id))).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
    for (const [path, method, op] of ops) {
      const where = `${method.toUpperCase()} ${path} (${op.operationId})`;
      const success = Object.keys(op.responses).filter((s) => /^2\d\d$/.test(s));
      expect([where, success.length]).toEqual([where, 1]);
      const status = success[0]!;
      if (status !== '204' && !NO_BODY.has(op.operationId!))
        expect([where, schemaOf(op, status) !== undefined]).toEqual([where, true]);
      if (!NO_ERROR.has(op.operationId!)) {
        const errors = Object.keys(op.responses).filter((s) => /^[45]\d\d$/.test(s));
        expect([where, errors.length > 0]).toEqual([where, true]);
        for (const e of errors)
          expect([where, e, schemaOf(op, e)?.$ref !== undefined]).toEqual([where, e, true]);
      }
      for (const p of op.parameters ?? [])
        expect([where, p.name, Object.keys(p.schema ?? {}).length > 0]).toEqual([where, p.name, true]);
    }
  });

  it('the answers of the running system match the schemas (error objects included)', async () => {
    const unauthenticated = await fetch(`${system.adminUrl}/admin/clients`);
    expect(unauthenticated.status).toBe(401);
    expect(matches('OAuthError', await unauthenticated.json())).toBe(true);
    const metadata = await (await fetch(`${system.baseUrl}/.well-known/oauth-authorization-server`)).json();
    expect(matches('AuthorizationServerMetadata', metadata)).toBe(true);
    expect(matches('JsonWebKeySet', await (await fetch(`${system.baseUrl}/jwks`)).json())).toBe(true);
  });

  it('a client generated from the served document type-checks and lists, creates and reads clients and lists users', async () => {
    const types = astToString(await openapiTS(doc as never));
    const dir = mkdtempSync(join(tmpdir(), 'openapi-client-'));
    try {
      writeFileSync(join(dir, 'api.d.ts'), types);
      // The generated types bind paths, bodies and answers: a wrong body is a compile error.
      writeFileSync(
        join(dir, 'client.ts'),
        `import createClient from 'openapi-fetch';
import type { paths } from './api.js';
const api = createClient<paths>({ baseUrl: 'http://127.0.0.1' });
export async function calls(): Promise<string[]> {
  const page = await api.GET('/admin/clients', { params: { query: { limit: 10 } } });
  const created = await api.POST('/admin/clients', {
    body: { client_name: 'x', grant_types: ['client_credentials'] },
  });
  const one = await api.GET('/admin/clients/{id}', { params: { path: { id: 'x' } } });
  const users = await api.GET('/admin/users');
  // @ts-expect-error client_name and grant_types are required (ClientMetadata)
  await api.POST('/admin/clients', { body: { scope: 'a' } });
  // @ts-expect-error no such grant type
  await api.POST('/admin/clients', { body: { client_name: 'x', grant_types: ['password'] } });
  const ids: string[] = (page.data?.clients ?? []).map((c) => c.client_id);
  const secret: string | undefined = created.data?.client_secret;
  const sub: string | undefined = users.data?.users[0]?.sub;
  return [...ids, secret ?? '', sub ?? '', String(one.response.status)];
}
`,
      );
      const program = ts.createProgram([join(dir, 'client.ts')], {
        strict: true,
        noEmit: true,
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.NodeNext,
        moduleResolution: ts.ModuleResolutionKind.NodeNext,
        skipLibCheck: true,
        baseUrl: dir,
        paths: { 'openapi-fetch': [resolve('node_modules/openapi-fetch')] },
        types: [],
      });
      const diagnostics = ts
        .getPreEmitDiagnostics(program)
        .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      expect(diagnostics).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }

    // The same calls at run time, against the running system with the admin bearer.
    const api = createClient<Record<string, never>>({
      baseUrl: system.adminUrl,
      headers: { authorization: `Bearer ${system.adminToken}` },
    });
    type Call = (
      path: string,
      init?: unknown,
    ) => Promise<{ data?: unknown; error?: unknown; response: Response }>;
    const GET = api.GET as unknown as Call;
    const POST = api.POST as unknown as Call;
    const created = await POST('/admin/clients', {
      body: { client_name: 'openapi-client', grant_types: ['client_credentials'], scope: 'read' },
    });
    expect(created.response.status).toBe(201);
    expect(matches('ClientCreated', created.data)).toBe(true);
    const clientId = (created.data as { client_id: string }).client_id;

    const list = await GET('/admin/clients', { params: { query: { limit: 100 } } });
    expect(list.response.status).toBe(200);
    expect(matches('ClientPage', list.data)).toBe(true);
    expect((list.data as { clients: { client_id: string }[] }).clients.map((c) => c.client_id)).toContain(
      clientId,
    );

    const one = await GET('/admin/clients/{id}', { params: { path: { id: clientId } } });
    expect(one.response.status).toBe(200);
    expect(matches('Client', one.data)).toBe(true);

    const missing = await GET('/admin/clients/{id}', { params: { path: { id: 'no-such-client' } } });
    expect(missing.response.status).toBe(404);
    expect(matches('OAuthError', missing.error)).toBe(true);

    const user = await POST('/admin/users', {
      body: { username: 'openapi-user', password: 'long enough pw' },
    });
    expect(user.response.status).toBe(201);
    expect(matches('User', user.data)).toBe(true);
    const users = await GET('/admin/users');
    expect(users.response.status).toBe(200);
    expect(matches('UserPage', users.data)).toBe(true);
    expect((users.data as { users: { username: string }[] }).users.map((u) => u.username)).toContain(
      'openapi-user',
    );

    // A schema that fails on a wrong shape: the checks above can fail.
    expect(matches('ClientPage', { clients: [{ client_id: 1 }], next: null })).not.toBe(true);
  });

  it('serves Swagger UI at /admin/docs, its assets from this listener, under a strict CSP', async () => {
    const page = await fetch(`${system.adminUrl}/admin/docs`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self';/);
    const html = await page.text();
    expect(html).not.toMatch(/<script>/);
    for (const asset of html.match(/\/admin\/docs\/[\w.-]+/g) ?? []) {
      const res = await fetch(`${system.adminUrl}${asset}`);
      expect([asset, res.status]).toEqual([asset, 200]);
    }
    const init = await (await fetch(`${system.adminUrl}/admin/docs/init.js`)).text();
    expect(init).toContain('"/openapi.json"');
    const unknown = await fetch(`${system.adminUrl}/admin/docs/..%2f..%2fpackage.json`);
    expect(unknown.status).toBe(404);
    expect(matches('OAuthError', await unknown.json())).toBe(true);
  });
});
